//! Listing what a run wrote: the one directory walker. Links are never
//! followed.

use std::path::{Path, PathBuf};

/// Every file and directory under `root`, recursively, sorted (links are
/// listed, not followed). Empty when `root` does not exist.
pub fn tree(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(root, &mut |path, _| found.push(path.to_path_buf()));
    found.sort();
    found
}

/// Every regular file under `root`, with its bytes, sorted by path.
pub fn files_under(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    walk(root, &mut |path, kind| {
        if kind.is_file() {
            files.push((path.to_path_buf(), std::fs::read(path).unwrap_or_default()));
        }
    });
    files.sort();
    files
}

/// The names of the entries directly in `dir`, sorted (empty when it does
/// not exist).
pub fn entries(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = read
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn walk(root: &Path, visit: &mut dyn FnMut(&Path, std::fs::FileType)) {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in read.filter_map(Result::ok) {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path.clone());
            }
            visit(&path, kind);
        }
    }
}
