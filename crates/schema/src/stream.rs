//! Reads inputs into parsed records: one thread decompresses and cuts chunks and has each
//! parsed on the thread pool as soon as it is cut, while the calling thread hands out the
//! records in input order, so that what it does with them overlaps the parsing of the next.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, TryRecvError, sync_channel};

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use hela_source::{Chunk, ChunkEvent, Input, ReadOptions, Refused, SourceError, Warning, read_input_watched};
use serde_json::{Map, Value};

use crate::parse::{Parsed, parse_chunk_into_tape};
use crate::convert::{columns_to_inferred_batch, records_to_inferred_batch};
use crate::{BadRecord, KeptFields, ObjectColumns, Tape, parse_chunk};

/// How the records of each chunk are handed over.
#[derive(Debug, Clone)]
pub enum RecordForm {
    /// As serde_json maps, each holding the fields kept.
    Maps(KeptFields),
    /// On one [`Tape`] per chunk, every field kept: for a reader of every field that builds
    /// columns from them (an ingest that stores records as they are).
    Tape,
}

/// The records of a chunk, in order.
#[derive(Debug)]
pub enum Records {
    Maps(Vec<Map<String, Value>>),
    Tape(Tape),
}

impl Records {
    pub fn len(&self) -> usize {
        match self {
            Records::Maps(maps) => maps.len(),
            Records::Tape(tape) => tape.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The records as one batch, under the schema inferred from them.
    pub fn to_inferred_batch(&self) -> Result<RecordBatch, ArrowError> {
        match self {
            Records::Maps(maps) => records_to_inferred_batch(maps),
            Records::Tape(tape) => columns_to_inferred_batch(&ObjectColumns::of_tape(tape)),
        }
    }

    /// The records as maps (made from the tape when they are on one).
    pub fn into_maps(self) -> Vec<Map<String, Value>> {
        match self {
            Records::Maps(maps) => maps,
            Records::Tape(tape) => tape.to_maps(),
        }
    }
}

/// What reading the inputs yields, in input order. `input` indexes the inputs slice.
#[derive(Debug)]
pub enum RecordEvent {
    /// Records, in order, and the bytes of the input lines they were read from.
    Records { input: usize, records: Records, bytes: usize },
    Bad { input: usize, record: BadRecord },
    Warning { input: usize, warning: Warning },
    /// A part of the input none of which can be read (an archive member that cannot be
    /// decompressed): every record in it is lost, so it fails as an unreadable input does.
    Unreadable { input: usize, part: Refused },
    /// The input is finished: read to its end, or failed to open.
    InputDone { input: usize, result: Result<(), SourceError> },
}

/// Chunks being parsed or parsed and waiting for the calling thread: enough to keep every
/// core of a small machine parsing while the caller works.
const CHUNKS_IN_FLIGHT: usize = 4;

/// Shown each run of an input's bytes read from disk: the input's index, where in it the
/// bytes were read, and the bytes (see [`hela_source::read_input_watched`]).
pub type ReadWatch<'a> = &'a (dyn Fn(usize, u64, &[u8]) + Sync);

/// Reads every input in order and calls `handle` with what it yields, the records of each
/// chunk in `form`, and `watch`, when given, with the bytes read. Stops early when `handle`
/// returns an error, which is passed back.
pub fn stream_records<E>(
    inputs: &[Input],
    options: &ReadOptions,
    form: &RecordForm,
    progress: &AtomicU64,
    watch: Option<ReadWatch>,
    handle: &mut dyn FnMut(RecordEvent) -> Result<(), E>,
) -> Result<(), E> {
    enum Message {
        Parsed(usize, Receiver<Parsed<Records>>),
        Warning(usize, Warning),
        Refused(usize, Refused),
        Done(usize, Result<(), SourceError>),
    }
    let (sender, receiver) = sync_channel::<Message>(CHUNKS_IN_FLIGHT);
    let form = Arc::new(form.clone());
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (index, input) in inputs.iter().enumerate() {
                let mut open = true;
                // A reader that panics on crafted bytes fails its input; the others go on.
                let read = catch_unwind(AssertUnwindSafe(|| {
                    let mut watch_input = |offset, bytes: &[u8]| watch.iter().for_each(|watch| watch(index, offset, bytes));
                    read_input_watched(input, options, progress, &mut watch_input, &mut |event| {
                        let message = match event {
                            ChunkEvent::Chunk(chunk) => Message::Parsed(index, parse_on_pool(chunk, form.clone())),
                            ChunkEvent::Warning(warning) => Message::Warning(index, warning),
                            ChunkEvent::Refused(refused) => Message::Refused(index, refused),
                        };
                        open = open && sender.send(message).is_ok();
                    })
                }));
                let result = read.unwrap_or_else(|panic| {
                    Err(SourceError::Failed { path: input.path.clone(), message: panic_message(panic.as_ref()) })
                });
                if !open || sender.send(Message::Done(index, result)).is_err() {
                    return;
                }
            }
        });
        // Dropping the receiver on an early return stops the reading thread.
        for message in receiver {
            match message {
                Message::Parsed(input, parsed) => {
                    let parsed = wait_for(&parsed);
                    for record in parsed.bad {
                        handle(RecordEvent::Bad { input, record })?;
                    }
                    if !parsed.records.is_empty() {
                        handle(RecordEvent::Records { input, records: parsed.records, bytes: parsed.bytes })?;
                    }
                }
                Message::Warning(input, warning) => handle(RecordEvent::Warning { input, warning })?,
                Message::Refused(input, refused) => handle(match refused.line {
                    Some(line) => {
                        let record = BadRecord::new(refused.origin, line, refused.reason, &refused.head);
                        RecordEvent::Bad { input, record }
                    }
                    None => RecordEvent::Unreadable { input, part: refused },
                })?,
                Message::Done(input, result) => handle(RecordEvent::InputDone { input, result })?,
            }
        }
        Ok(())
    })
}

/// Parses `chunk` on the thread pool; its records come through the receiver.
fn parse_on_pool(chunk: Chunk, form: Arc<RecordForm>) -> Receiver<Parsed<Records>> {
    let (sender, receiver) = sync_channel(1);
    rayon::spawn(move || {
        // The receiver is gone only when reading stopped early.
        let _ = sender.send(parse_isolated(&chunk, &form));
    });
    receiver
}

/// The answer of a job on the thread pool. A thread of the pool waiting for it runs other
/// jobs meanwhile, so that a pool of one thread cannot wait on itself.
fn wait_for<T>(answer: &Receiver<T>) -> T {
    if rayon::current_thread_index().is_none() {
        return answer.recv().expect("a job on the pool always answers: its panics are caught");
    }
    loop {
        match answer.try_recv() {
            Ok(value) => return value,
            Err(TryRecvError::Empty) => {
                if rayon::yield_now() != Some(rayon::Yield::Executed) {
                    std::thread::yield_now();
                }
            }
            Err(TryRecvError::Disconnected) => panic!("a job on the pool always answers: its panics are caught"),
        }
    }
}

/// Parses a chunk; should the parser panic, every line of the chunk is a bad record.
fn parse_isolated(chunk: &Chunk, form: &RecordForm) -> Parsed<Records> {
    let parse = || match form {
        RecordForm::Maps(kept) => parse_chunk(chunk, kept).map(Records::Maps),
        RecordForm::Tape => parse_chunk_into_tape(chunk).map(Records::Tape),
    };
    catch_unwind(parse).unwrap_or_else(|panic| {
        let reason = format!("the JSON reader failed on the chunk holding this line: {}", panic_message(panic.as_ref()));
        let bad = chunk
            .lines()
            .map(|(line, text)| BadRecord::new(chunk.origin.clone(), line, reason.clone(), text))
            .collect();
        Parsed { records: Records::Maps(Vec::new()), bad, bytes: 0 }
    })
}

/// The text a panic was raised with.
fn panic_message(panic: &(dyn Any + Send)) -> String {
    let text = panic.downcast_ref::<&str>().copied().or_else(|| panic.downcast_ref::<String>().map(String::as_str));
    format!("{} (a fault in hela or a library it uses; please report it)", text.unwrap_or("unknown panic"))
}
