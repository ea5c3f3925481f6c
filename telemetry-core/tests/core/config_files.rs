//! The files in the config dir: the toolkit creates them private (dirs
//! 0700, files 0600, no temporary file left behind), and never writes
//! through, reads from or creates the target of a link planted at their
//! names.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use telemetry_core::{Telemetry, NOTICE_MARKER_FILE, USER_UUID_FILE};
use telemetry_test_support::collector::Collector;
use telemetry_test_support::isolated;
use telemetry_test_support::{is_uuid, MemoryWriter, TempDir};

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn created_files_are_private() {
    let collector = Collector::start().unwrap();
    let root = TempDir::new("modes");
    // Two levels that do not exist yet: both are created private.
    let parent = root.join("parent");
    let config = parent.join("app");
    let notice = MemoryWriter::new();
    let build = || {
        Telemetry::builder("config-files-test", "1.0.0")
            .endpoint(collector.url())
            .config_dir(&config)
            .notice_writer(notice.clone())
            .env(|_| None)
            .build()
    };
    build().track_command("first-run", Vec::<String>::new());
    build().track_command("second-run", Vec::<String>::new());

    assert_eq!(mode(&config.join(USER_UUID_FILE)), 0o600);
    assert_eq!(mode(&config.join(NOTICE_MARKER_FILE)), 0o600);
    for dir in [&parent, &config] {
        let mode = mode(dir);
        assert_eq!(mode & 0o022, 0, "{dir:?} is writable by others: {mode:o}");
        assert_eq!(mode, 0o700, "{dir:?}");
    }
    // Nothing else: no temporary file left behind.
    let mut names: Vec<String> = std::fs::read_dir(&config)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [NOTICE_MARKER_FILE, USER_UUID_FILE]);
    // The run that showed the notice sent nothing; the next one did.
    let records = collector.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["properties"]["action"], "second-run");
}

/// Someone who can write to the config dir plants a link at the id file's
/// name, pointing at a file of the user's elsewhere that even holds a valid
/// id; or a dangling link. The id is neither taken from the link's target
/// nor written through it: the link is replaced by a private regular file
/// of our own, with a new id.
#[test]
fn a_symlinked_id_file_is_never_used_nor_written_through() {
    let collector = Collector::start().unwrap();
    let config = TempDir::new("links");
    let elsewhere = TempDir::new("links-target");
    let victim = elsewhere.join("victim");
    let victim_text = "6f1d2b9e-0000-4000-8000-000000000001\n";
    std::fs::write(&victim, victim_text).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::os::unix::fs::symlink(&victim, config.join(USER_UUID_FILE)).unwrap();
    let dangling = TempDir::new("uuid-dangling");
    let ghost = dangling.join("ghost");
    std::os::unix::fs::symlink(&ghost, dangling.join(USER_UUID_FILE)).unwrap();

    // Two runs with the notice (the first shows it, the second sends).
    for _ in 0..2 {
        Telemetry::builder("config-files-test", "1.0.0")
            .endpoint(collector.url())
            .config_dir(config.path())
            .notice_writer(std::io::sink())
            .env(|_| None)
            .build()
            .track_command("x", Vec::<String>::new());
    }
    // One run without a notice.
    isolated("config-files-test", "1.0.0")
        .endpoint(collector.url())
        .config_dir(dangling.path())
        .build()
        .track_command("x", Vec::<String>::new());

    let records = collector.records();
    assert_eq!(records.len(), 2, "{records:#?}");
    for record in &records {
        let id = record["properties"]["user_uuid"].as_str().unwrap();
        assert!(is_uuid(id), "{id}");
        assert_ne!(id, victim_text.trim());
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), victim_text);
    assert_eq!(mode(&victim), 0o644);
    assert!(!ghost.exists());
    for dir in [config.path(), dangling.path()] {
        let id = dir.join(USER_UUID_FILE);
        assert!(
            std::fs::symlink_metadata(&id).unwrap().is_file(),
            "the link was replaced by a file"
        );
        assert_eq!(mode(&id), 0o600);
    }
}

/// A link planted at the notice marker's name, pointing where no file is:
/// the marker is never created through it.
#[test]
fn a_symlinked_notice_marker_is_never_written_through() {
    let collector = Collector::start().unwrap();
    let config = TempDir::new("marker-link");
    let elsewhere = TempDir::new("marker-link-target");
    let would_be_created = elsewhere.join("created-through-link");
    std::os::unix::fs::symlink(&would_be_created, config.join(NOTICE_MARKER_FILE)).unwrap();
    for _ in 0..2 {
        Telemetry::builder("config-files-test", "1.0.0")
            .endpoint(collector.url())
            .config_dir(config.path())
            .notice_writer(std::io::sink())
            .env(|_| None)
            .build()
            .track_command("x", Vec::<String>::new());
    }
    assert!(!would_be_created.exists());
}
