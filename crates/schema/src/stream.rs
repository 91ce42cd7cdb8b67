//! Reads inputs into parsed records: one thread decompresses and cuts chunks while the
//! calling thread parses them in parallel and hands out records in input order.

use std::sync::atomic::AtomicU64;
use std::sync::mpsc::sync_channel;

use hela_source::{Chunk, ChunkEvent, Input, ReadOptions, SourceError, Warning, read_input};
use rayon::prelude::*;
use serde_json::{Map, Value};

use crate::{BadRecord, parse_chunk};

/// What reading the inputs yields, in input order. `input` indexes the inputs slice.
#[derive(Debug)]
pub enum RecordEvent {
    /// Records with the input bytes each took.
    Records { input: usize, records: Vec<(Map<String, Value>, usize)> },
    Bad { input: usize, record: BadRecord },
    Warning { input: usize, warning: Warning },
    /// The input is finished: read to its end, or failed to open.
    InputDone { input: usize, result: Result<(), SourceError> },
}

/// Chunks parsed together in one parallel step.
const CHUNKS_PER_STEP: usize = 4;
/// Chunks waiting between the reading thread and the parsers.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Reads every input in order and calls `handle` with what it yields. Stops early when
/// `handle` returns an error, which is passed back.
pub fn stream_records<E>(
    inputs: &[Input],
    options: &ReadOptions,
    progress: &AtomicU64,
    handle: &mut dyn FnMut(RecordEvent) -> Result<(), E>,
) -> Result<(), E> {
    enum Message {
        Chunk(usize, Chunk),
        Warning(usize, Warning),
        Done(usize, Result<(), SourceError>),
    }
    let (sender, receiver) = sync_channel::<Message>(CHUNKS_IN_FLIGHT);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (index, input) in inputs.iter().enumerate() {
                let mut open = true;
                let result = read_input(input, options, progress, &mut |event| {
                    let message = match event {
                        ChunkEvent::Chunk(chunk) => Message::Chunk(index, chunk),
                        ChunkEvent::Warning(warning) => Message::Warning(index, warning),
                    };
                    open = open && sender.send(message).is_ok();
                });
                if !open || sender.send(Message::Done(index, result)).is_err() {
                    return;
                }
            }
        });
        let mut waiting: Vec<(usize, Chunk)> = Vec::new();
        let parse_waiting = |waiting: &mut Vec<(usize, Chunk)>, handle: &mut dyn FnMut(RecordEvent) -> Result<(), E>| {
            let parsed: Vec<_> = waiting.par_iter().map(|(input, chunk)| (*input, parse_chunk(chunk))).collect();
            waiting.clear();
            for (input, parsed) in parsed {
                let per_record = parsed.bytes / parsed.records.len().max(1);
                for record in parsed.bad {
                    handle(RecordEvent::Bad { input, record })?;
                }
                if !parsed.records.is_empty() {
                    let records = parsed.records.into_iter().map(|r| (r, per_record)).collect();
                    handle(RecordEvent::Records { input, records })?;
                }
            }
            Ok(())
        };
        // Dropping the receiver on an early return stops the reading thread.
        for message in receiver {
            match message {
                Message::Chunk(input, chunk) => {
                    waiting.push((input, chunk));
                    if waiting.len() >= CHUNKS_PER_STEP {
                        parse_waiting(&mut waiting, handle)?;
                    }
                }
                Message::Warning(input, warning) => {
                    parse_waiting(&mut waiting, handle)?;
                    handle(RecordEvent::Warning { input, warning })?;
                }
                Message::Done(input, result) => {
                    parse_waiting(&mut waiting, handle)?;
                    handle(RecordEvent::InputDone { input, result })?;
                }
            }
        }
        Ok(())
    })
}
