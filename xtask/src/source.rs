//! Where a spec comes from: a file, an `http(s)://` URL, or a git revision.
//!
//! Reading never panics: every failure is a [`ReadError`] that says what was tried and why it
//! failed, and [`ReadError::is_unreachable`] tells "could not get the document" apart from local
//! problems, so `spec check` can exit with its own code when upstream is offline.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

/// Deck's served spec: the default for `spec refresh --from` and `spec check --upstream`.
pub const DEFAULT_UPSTREAM: &str = "https://docs.deck.co/api-reference/v2.json";

/// Largest document accepted from a URL (the real spec is ~60 KB).
const MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// How long a fetch may take, connection and body included.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace root (the parent of `xtask/`), so default paths work from any directory.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The vendored spec, `openapi/v2.json` under the workspace root.
pub fn default_spec_path() -> PathBuf {
    workspace_root().join("openapi").join("v2.json")
}

/// The surface snapshot that sits next to a spec file (`openapi/surface.txt` for the vendored one).
pub fn surface_path_for(spec: &Path) -> PathBuf {
    spec.parent()
        .map(|dir| dir.join("surface.txt"))
        .unwrap_or_else(|| PathBuf::from("surface.txt"))
}

/// One place a spec can be read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecSource {
    /// A local file.
    File(PathBuf),
    /// An `http://` or `https://` URL.
    Url(String),
    /// `git:REV[:PATH]`: the file at `PATH` (relative to the repository root, default
    /// `openapi/v2.json`) in revision `REV`, read with `git show`.
    Git {
        /// Any revision git understands (`HEAD`, `HEAD~1`, a tag, a commit).
        rev: String,
        /// Path inside the repository.
        path: String,
    },
}

impl SpecSource {
    /// The default OLD side of `spec diff`: the committed vendored spec.
    pub fn git_head() -> Self {
        SpecSource::Git {
            rev: "HEAD".into(),
            path: "openapi/v2.json".into(),
        }
    }

    /// Reads the document's text.
    pub fn read(&self) -> Result<String, ReadError> {
        match self {
            SpecSource::File(path) => std::fs::read_to_string(path).map_err(|e| ReadError::File {
                path: path.clone(),
                reason: e.to_string(),
            }),
            SpecSource::Url(url) => fetch(url),
            SpecSource::Git { rev, path } => git_show(rev, path),
        }
    }
}

impl FromStr for SpecSource {
    type Err = String;

    /// `http(s)://…` is a URL, `git:REV[:PATH]` a git revision, anything else a file path.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(SpecSource::Url(s.to_string()));
        }
        if let Some(rest) = s.strip_prefix("git:") {
            let (rev, path) = match rest.split_once(':') {
                Some((rev, path)) => (rev, path),
                None => (rest, "openapi/v2.json"),
            };
            if rev.is_empty() || path.is_empty() {
                return Err(format!("`{s}`: expected git:REV or git:REV:PATH"));
            }
            return Ok(SpecSource::Git {
                rev: rev.to_string(),
                path: path.to_string(),
            });
        }
        if s.is_empty() {
            return Err("an empty spec location".into());
        }
        Ok(SpecSource::File(PathBuf::from(s)))
    }
}

impl fmt::Display for SpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecSource::File(path) => write!(f, "{}", path.display()),
            SpecSource::Url(url) => f.write_str(url),
            SpecSource::Git { rev, path } => write!(f, "git:{rev}:{path}"),
        }
    }
}

/// Why a spec could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The URL could not be fetched: DNS, connection refused, TLS, timeout, bad body.
    Network {
        /// What was fetched.
        url: String,
        /// The transport's explanation.
        reason: String,
    },
    /// The server answered with a non-success status.
    HttpStatus {
        /// What was fetched.
        url: String,
        /// The status code, e.g. 404.
        status: u16,
    },
    /// A local file could not be read.
    File {
        /// The file.
        path: PathBuf,
        /// The OS error.
        reason: String,
    },
    /// `git show` failed (not a repository, unknown revision, file not in that revision).
    Git {
        /// `REV:PATH` as passed to git.
        object: String,
        /// git's stderr, or why git could not run.
        reason: String,
    },
}

impl ReadError {
    /// Whether the source could not be reached at all (network, HTTP status, missing file), as
    /// opposed to a local git problem. `spec check` maps this to its "unreachable" exit code.
    pub fn is_unreachable(&self) -> bool {
        !matches!(self, ReadError::Git { .. })
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Network { url, reason } => write!(f, "cannot fetch {url}: {reason}"),
            ReadError::HttpStatus { url, status } => {
                write!(f, "cannot fetch {url}: the server answered HTTP {status}")
            }
            ReadError::File { path, reason } => {
                write!(f, "cannot read {}: {reason}", path.display())
            }
            ReadError::Git { object, reason } => {
                write!(f, "cannot read `{object}` from git: {reason}")
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// Whether `url`'s host is `localhost` or a loopback address (parsed by `url`, as the client's
/// own check is).
fn is_loopback(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(url::Url::host) {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// GET `url` and return the body as text. Non-2xx statuses are errors; redirects are followed.
pub fn fetch(url: &str) -> Result<String, ReadError> {
    let mut config = ureq::Agent::config_builder()
        .timeout_global(Some(FETCH_TIMEOUT))
        .http_status_as_error(false)
        .user_agent(concat!("deck-api-xtask/", env!("CARGO_PKG_VERSION")));
    if is_loopback(url) {
        // A proxy from the environment must not capture a local server (tests, mirrors).
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    let network = |reason: String| ReadError::Network {
        url: url.to_string(),
        reason,
    };
    let mut response = agent.get(url).call().map_err(|e| network(e.to_string()))?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(ReadError::HttpStatus {
            url: url.to_string(),
            status,
        });
    }
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY_BYTES)
        .read_to_string()
        .map_err(|e| network(format!("reading the body failed: {e}")))
}

fn git_show(rev: &str, path: &str) -> Result<String, ReadError> {
    let object = format!("{rev}:{path}");
    let output = Command::new("git")
        .arg("-C")
        .arg(workspace_root())
        .arg("show")
        .arg(&object)
        .output()
        .map_err(|e| ReadError::Git {
            object: object.clone(),
            reason: format!("cannot run git: {e}"),
        })?;
    if !output.status.success() {
        return Err(ReadError::Git {
            object,
            reason: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| ReadError::Git {
        object,
        reason: "the file is not UTF-8".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_from_their_spelling() {
        assert_eq!(
            "https://docs.deck.co/x.json".parse::<SpecSource>(),
            Ok(SpecSource::Url("https://docs.deck.co/x.json".into()))
        );
        assert_eq!("git:HEAD".parse::<SpecSource>(), Ok(SpecSource::git_head()));
        assert_eq!(
            "git:v1.0:openapi/old.json".parse::<SpecSource>(),
            Ok(SpecSource::Git {
                rev: "v1.0".into(),
                path: "openapi/old.json".into()
            })
        );
        assert_eq!(
            "openapi/v2.json".parse::<SpecSource>(),
            Ok(SpecSource::File("openapi/v2.json".into()))
        );
        assert!("git:".parse::<SpecSource>().is_err());
        assert!("".parse::<SpecSource>().is_err());
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:8080/v2.json"));
        assert!(is_loopback("http://localhost/v2.json"));
        assert!(is_loopback("http://[::1]:80/x"));
        assert!(!is_loopback("https://docs.deck.co/api-reference/v2.json"));
        assert!(!is_loopback("https://127.example.com/x"));
    }

    #[test]
    fn a_missing_file_is_a_typed_error() {
        let err = SpecSource::File("/nonexistent/v2.json".into())
            .read()
            .unwrap_err();
        assert!(err.is_unreachable());
        assert!(err.to_string().contains("/nonexistent/v2.json"), "{err}");
    }
}
