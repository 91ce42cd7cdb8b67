//! `hela tables` and `hela schema`: what the lake holds.

use std::process::ExitCode;

use anyhow::bail;
use hela_lake::Lake;
use hela_schema::shape::query_schema;

use crate::cli::{LakeArgs, SchemaArgs, TablesArgs};
use crate::remote::Remote;

pub fn list(args: TablesArgs) -> anyhow::Result<ExitCode> {
    println!("{:<40} {:>12} {:>8} {:>12}", "table", "rows", "files", "bytes");
    if let Some(remote) = Remote::of(&args.server)? {
        let answer = remote.get_json("/_hela/tables")?;
        for table in answer["tables"].as_array().map(Vec::as_slice).unwrap_or_default() {
            let number = |key: &str| table[key].as_u64().unwrap_or_default();
            let (name, rows, files, bytes) = (table["name"].as_str().unwrap_or_default(), number("rows"), number("files"), number("bytes"));
            println!("{name:<40} {rows:>12} {files:>8} {bytes:>12}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let lake = open(&args.lake)?;
    let catalog = lake.catalog()?;
    for (name, table) in &catalog.tables {
        let rows: u64 = table.files.iter().map(|f| f.rows).sum();
        let bytes: u64 = table.files.iter().map(|f| f.bytes).sum();
        println!("{name:<40} {rows:>12} {:>8} {bytes:>12}", table.files.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn schema(args: SchemaArgs) -> anyhow::Result<ExitCode> {
    if let Some(remote) = Remote::of(&args.server)? {
        let (schema, _) = remote.query(&format!("SELECT * FROM `{}` LIMIT 0", args.table.replace('`', "``")))?;
        schema.fields().iter().for_each(|field| print_field(field, 0));
        return Ok(ExitCode::SUCCESS);
    }
    let lake = open(&args.lake)?;
    let catalog = lake.catalog()?;
    let Some(table) = catalog.tables.get(&args.table) else {
        let names: Vec<&str> = catalog.tables.keys().map(String::as_str).collect();
        bail!("no table `{}` in {}; tables: {}", args.table, lake.root().display(), names.join(", "));
    };
    for field in query_schema(&table.storage_schema()).fields() {
        print_field(field, 0);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_field(field: &arrow::datatypes::Field, depth: usize) {
    use arrow::datatypes::DataType;
    let indent = "  ".repeat(depth);
    match field.data_type() {
        DataType::Struct(children) => {
            println!("{indent}{}: struct", field.name());
            children.iter().for_each(|c| print_field(c, depth + 1));
        }
        DataType::List(item) => println!("{indent}{}: list<{}>", field.name(), type_name(item.data_type())),
        other => println!("{indent}{}: {}", field.name(), type_name(other)),
    }
}

fn type_name(data_type: &arrow::datatypes::DataType) -> String {
    use arrow::datatypes::DataType;
    match data_type {
        DataType::Utf8 => "string".into(),
        DataType::Int64 => "bigint".into(),
        DataType::Float64 => "double".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Struct(_) => "struct".into(),
        DataType::List(item) => format!("list<{}>", type_name(item.data_type())),
        other => other.to_string().to_lowercase(),
    }
}

fn open(args: &LakeArgs) -> anyhow::Result<Lake> {
    let lake = Lake::new(&args.lake);
    if !lake.exists() {
        bail!("{}: no lake here yet; create one with `hela ingest --lake {} PATH...`", lake.root().display(), lake.root().display());
    }
    Ok(lake)
}
