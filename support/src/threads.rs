//! This process's threads (Linux: `/proc/self/task`), for tests that prove
//! no thread was started. Count them only in a test that runs alone in its
//! process ([`crate::process::run_alone`]): other tests' threads come and go.

/// The threads of this process: their ids and names, sorted by id. Empty
/// where `/proc` is missing.
pub fn threads() -> Vec<(u32, String)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut threads: Vec<(u32, String)> = tasks
        .filter_map(Result::ok)
        .filter_map(|task| {
            let id = task.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            Some((id, name.trim().to_owned()))
        })
        .collect();
    threads.sort();
    threads
}

/// The ids of this process's threads, sorted.
pub fn thread_ids() -> Vec<u32> {
    threads().into_iter().map(|(id, _)| id).collect()
}
