//! The flag names an app declared (a list on the builder, or a
//! `clap::Command`), and the filter that keeps only those in a command's
//! `args`: any other dash-word may be a word of a prompt or a value.

use crate::record::args;
use std::collections::BTreeSet;

/// The flag names a client may record, exactly as typed on a command line
/// (`--debug`, `-m`). Empty unless the app declared some: then no flag is
/// recorded at all.
#[derive(Debug, Default)]
pub(crate) struct DeclaredFlags {
    names: BTreeSet<Box<str>>,
}

impl DeclaredFlags {
    /// The declared names that are flag names (`--name`, or `-x` with one
    /// ASCII letter; see [`args::flag_names_where`]), and how many entries were
    /// not and are ignored (`debug` without its dashes, `--a=b`, `-ab`,
    /// `--über`): no argument could ever be recorded as one of those.
    pub(crate) fn new<S: AsRef<str>>(declared: &[S]) -> (DeclaredFlags, usize) {
        let mut names = BTreeSet::new();
        let mut ignored = 0;
        for name in declared {
            let name = name.as_ref();
            if args::flag_name(name) == Some(name) {
                names.insert(Box::from(name));
            } else {
                ignored += 1;
            }
        }
        (DeclaredFlags { names }, ignored)
    }

    /// The flag names in `args` that were declared, in order, within the
    /// caps of [`MAX_FLAGS`](crate::MAX_FLAGS): `--model=gpt-4` gives `--model` and
    /// `-pHunter2` gives `-p` when those are declared; every other word,
    /// and every word after a `--`, is dropped.
    pub(crate) fn keep<I, S>(&self, args: I) -> Vec<String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        if self.names.is_empty() {
            return Vec::new();
        }
        args::flag_names_where(args, |name| self.names.contains(name))
    }
}

#[cfg(test)]
mod tests {
    use super::DeclaredFlags;

    #[test]
    fn only_flag_names_can_be_declared() {
        let given = [
            "--debug", "-m", "debug", "--a=b", "-ab", "--über", "-5", "--", "",
        ];
        let (declared, ignored) = DeclaredFlags::new(&given);
        assert_eq!(ignored, 7);
        assert_eq!(declared.keep(given), ["--debug", "-m"]);
    }

    #[test]
    fn nothing_declared_keeps_nothing() {
        let (declared, _) = DeclaredFlags::new::<&str>(&[]);
        assert!(declared.keep(["--debug", "-v", "--model=x"]).is_empty());
    }

    #[test]
    fn values_attached_to_declared_flags_are_dropped() {
        let (declared, _) = DeclaredFlags::new(&["--model", "-p"]);
        let args = ["--model=gpt-4", "-pHunter2", "-qHunter2", "--other=1"];
        assert_eq!(declared.keep(args), ["--model", "-p"]);
    }

    #[test]
    fn the_cap_counts_kept_names_only() {
        let (declared, _) = DeclaredFlags::new(&["--v"]);
        let mut args: Vec<String> = (0..100).map(|i| format!("--undeclared{i}")).collect();
        args.extend((0..100).map(|_| "--v".to_owned()));
        assert_eq!(declared.keep(&args).len(), crate::MAX_FLAGS);
    }
}
