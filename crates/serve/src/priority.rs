//! Folding documents into the lake is background work: acknowledging a shipper's request
//! and answering a hunter's query are what someone waits for. On a busy machine the fold's
//! threads yield the CPU to them; they still get every cycle the others leave.

/// How much lower than the server's other threads the fold runs (Linux nice levels).
const BACKGROUND_NICENESS: i32 = 10;

/// Lowers the calling thread's CPU priority to the background's. Without the right to
/// (some containers), the thread keeps its priority.
pub fn lower_this_thread() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid and setpriority take no pointers; on Linux a nice value belongs to
        // the thread that PRIO_PROCESS names by its id.
        let result = unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, BACKGROUND_NICENESS) };
        if result != 0 {
            eprintln!("warning: cannot lower the priority of the lake's folding: {}", std::io::Error::last_os_error());
        }
    }
}

/// Makes rayon's threads, which the fold parses documents on, background threads too.
pub fn lower_rayon_threads() {
    // The global pool is built once; if something built it already, its threads stay.
    let _ = rayon::ThreadPoolBuilder::new().thread_name(|i| format!("hela-fold-{i}")).start_handler(|_| lower_this_thread()).build_global();
}
