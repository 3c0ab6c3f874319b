//! The commit checked out where the cases lie, for `summary.json`.
//!
//! Read from the repository's files when they have the plain layout (a
//! `.git` folder or a worktree's `.git` file, `HEAD` naming a branch whose
//! commit is in a loose ref or in `packed-refs`, or a detached `HEAD`):
//! starting `git rev-parse HEAD` costs about 2 ms of CPU (measured here),
//! which a run pinned to one CPU pays in full. Anything else (git's
//! environment variables, a reftable repository, a symbolic ref pointing
//! further, an unreadable file) is answered by git itself, as before.

use std::path::{Path, PathBuf};

/// What the files say: a commit, no commit (not a repository, or a branch
/// with no commit yet), or `None`: ask git.
pub(crate) fn read_head(dir: &Path) -> Option<Option<String>> {
    // Variables that change where git looks or what it reads.
    const GIT_ENV: [&str; 6] = [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_COMMON_DIR",
        "GIT_CEILING_DIRECTORIES",
        "GIT_DISCOVERY_ACROSS_FILESYSTEM",
        "GIT_OBJECT_DIRECTORY",
    ];
    if GIT_ENV.iter().any(|v| std::env::var_os(v).is_some()) {
        return None;
    }
    let start = std::fs::canonicalize(dir).ok()?;
    let Some(git_dir) = start.ancestors().find_map(git_dir_of) else {
        // No `.git` anywhere above: git would find no repository either.
        return Some(None);
    };
    let git_dir = git_dir?;
    let common = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(c) => git_dir.join(c.trim_end_matches('\n')),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => git_dir.clone(),
        Err(_) => return None,
    };
    if common.join("reftable").exists() {
        return None;
    }
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.trim_end_matches('\n');
    let Some(name) = head.strip_prefix("ref: ") else {
        return is_object_id(head).then(|| Some(head.to_owned()));
    };
    if !name.starts_with("refs/") || name.contains("..") {
        return None;
    }
    match std::fs::read_to_string(common.join(name)) {
        Ok(id) => {
            let id = id.trim_end_matches('\n');
            return is_object_id(id).then(|| Some(id.to_owned()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let packed = match std::fs::read_to_string(common.join("packed-refs")) {
        Ok(p) => p,
        // A branch with no commit yet: `git rev-parse HEAD` fails too.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(None),
        Err(_) => return None,
    };
    for line in packed.lines() {
        if let Some((id, r)) = line.split_once(' ')
            && r == name
        {
            return is_object_id(id).then(|| Some(id.to_owned()));
        }
    }
    Some(None)
}

/// The git directory of work tree `dir`: `None` when `dir` has no `.git`,
/// `Some(None)` when it has one this reader leaves to git.
fn git_dir_of(dir: &Path) -> Option<Option<PathBuf>> {
    let dot_git = dir.join(".git");
    let meta = std::fs::metadata(&dot_git).ok()?;
    if meta.is_dir() {
        return Some(Some(dot_git));
    }
    // A worktree or a submodule: `gitdir: <path>`.
    let text = std::fs::read_to_string(&dot_git).ok();
    let target = text
        .as_deref()
        .and_then(|t| t.strip_prefix("gitdir: "))
        .map(|t| dir.join(t.trim_end_matches('\n')));
    Some(target.filter(|t| t.is_dir()))
}

/// 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fn is_object_id(s: &str) -> bool {
    matches!(s.len(), 40 | 64) && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let o = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .output()
            .expect("git runs");
        assert!(o.status.success(), "git {args:?}: {o:?}");
        String::from_utf8(o.stdout).unwrap().trim().to_owned()
    }

    /// What `git rev-parse HEAD` says in `dir`.
    fn rev_parse(dir: &Path) -> Option<String> {
        super::super::summary::git_commit_by_git(dir)
    }

    #[test]
    fn the_files_say_what_git_says() {
        let tmp = tempfile::tempdir().unwrap();
        let repo = tmp.path().join("repo");
        let cases = repo.join("cases/suite");
        std::fs::create_dir_all(&cases).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        // A branch with no commit yet.
        assert_eq!(read_head(&cases), Some(None));
        assert_eq!(rev_parse(&cases), None);

        std::fs::write(cases.join("a.yaml"), "cases: []\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "one"]);
        let one = git(&repo, &["rev-parse", "HEAD"]);
        // Loose ref, from the top and from a sub-folder.
        assert_eq!(read_head(&repo), Some(Some(one.clone())));
        assert_eq!(read_head(&cases), Some(Some(one.clone())));

        // Packed ref only.
        git(&repo, &["pack-refs", "--all", "--prune"]);
        assert!(!repo.join(".git/refs/heads/main").exists());
        assert_eq!(read_head(&cases), Some(Some(one.clone())));

        // A newer loose ref wins over the packed one.
        git(&repo, &["commit", "-q", "--allow-empty", "-m", "two"]);
        let two = git(&repo, &["rev-parse", "HEAD"]);
        assert_ne!(one, two);
        assert_eq!(read_head(&cases), Some(Some(two.clone())));

        // Detached HEAD.
        git(&repo, &["checkout", "-q", "--detach", &one]);
        assert_eq!(read_head(&cases), Some(Some(one.clone())));
        git(&repo, &["checkout", "-q", "main"]);

        // A worktree: `.git` is a file, refs are in the common folder.
        let wt = tmp.path().join("wt");
        git(
            &repo,
            &[
                "worktree",
                "add",
                "-q",
                "-b",
                "side",
                wt.to_str().unwrap(),
                &one,
            ],
        );
        assert_eq!(read_head(&wt.join("cases")), Some(Some(one.clone())));
        assert_eq!(rev_parse(&wt.join("cases")), Some(one.clone()));
        assert_eq!(read_head(&cases), Some(Some(two.clone())));
        assert_eq!(rev_parse(&cases), Some(two));
    }

    #[test]
    fn outside_a_repository_there_is_no_commit_and_odd_layouts_go_to_git() {
        // The temporary folder is outside any repository (git agrees).
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(rev_parse(tmp.path()), None);
        assert_eq!(read_head(tmp.path()), Some(None));
        // A `.git` file that points nowhere, and a HEAD naming something else: ask git.
        let odd = tmp.path().join("odd");
        std::fs::create_dir_all(&odd).unwrap();
        std::fs::write(odd.join(".git"), "gitdir: ../nowhere\n").unwrap();
        assert_eq!(read_head(&odd), None);
        let sym = tmp.path().join("sym/.git");
        std::fs::create_dir_all(&sym).unwrap();
        std::fs::write(sym.join("HEAD"), "ref: HEAD2\n").unwrap();
        assert_eq!(read_head(sym.parent().unwrap()), None);
        std::fs::write(sym.join("HEAD"), "0123\n").unwrap();
        assert_eq!(read_head(sym.parent().unwrap()), None);
    }
}
