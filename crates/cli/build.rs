//! Links the `hela` program as a position-dependent executable on Linux. A position-
//! independent one first relocates some 250,000 addresses (DataFusion's tables of functions)
//! each time it starts: `hela --version` took 4.4-6.1 ms that way and takes 2.7 ms now, and
//! each cold `hela sql` query starts that much sooner. The price is that the program's own
//! code sits at a fixed address (its libraries are still placed at random).

fn main() {
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-link-arg-bin=hela=-no-pie");
    }
}
