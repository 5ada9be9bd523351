//! [`RedisStore`]: the coordination state in Redis, shared by every process that points at it.

use super::{CheckpointStore, EventDedup, RateLimitStore};
use crate::RateLimit;
use crate::error::Error;
use crate::feed::FeedCheckpoint;
use futures::future::BoxFuture;
use redis::aio::MultiplexedConnection;
use std::fmt;
use std::time::Duration;

/// Takes a slot when fewer than `limit` are in flight or were released within a period.
/// Slots are a sorted set: member = token, score = when it stops counting minus a period
/// (its release time; while in flight, the time it expires unreleased). Redis's own clock, so
/// every process agrees, in microseconds: with milliseconds a release stamped up to 1 ms early
/// let a slot back in before the server's window had moved on (2 × 429 in the bench).
/// Arguments are milliseconds; the answer is a wait in milliseconds, or -1 for a slot.
const TAKE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, period, hold = tonumber(ARGV[1]), tonumber(ARGV[2]) * 1000, tonumber(ARGV[3]) * 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + hold, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil((hold + period) / 1000) + 1000)
  return -1
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
if oldest > now then return 20 end
return math.ceil((oldest + period - now) / 1000)
";

/// Releases a slot: used, it counts for one period from now; unused, it is free at once.
const RELEASE: &str = r"
if ARGV[2] == '1' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  redis.call('ZADD', KEYS[1], 'XX', now, ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
return 1
";

/// Rate-limit slots, handled event ids and feed checkpoints in Redis (feature `redis`), so a
/// fleet of processes shares one allowance, handles each event once and resumes feeds.
///
/// Keys are under a prefix (default `deck:`): `deck:rate`, `deck:event:<id>`,
/// `deck:checkpoint:<name>`. Its `Debug` shows the prefix, never the URL (which may hold a
/// password).
///
/// ```no_run
/// # async fn f() -> Result<(), deck::Error> {
/// use deck::store::RedisStore;
/// use std::sync::Arc;
/// let store = Arc::new(RedisStore::open("redis://127.0.0.1:6379/")?);
/// let client = deck::Client::builder_from_env()?
///     .rate_limit(deck::RateLimit::DECK)
///     .rate_limit_store(store.clone())
///     .build()?;
/// # Ok(()) }
/// ```
pub struct RedisStore {
    client: redis::Client,
    connection: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    prefix: String,
    take: redis::Script,
    release: redis::Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn store_error(e: redis::RedisError) -> Error {
    // Redis errors name the command, never the URL.
    Error::Store(e.to_string())
}

impl RedisStore {
    /// A store at `url` (`redis://host:port/db`, `rediss://…` is not built in). Connects on
    /// first use, and again after a failure.
    pub fn open(url: &str) -> Result<Self, Error> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::InvalidRequest(format!("Redis URL: {:?}", e.kind())))?;
        Ok(RedisStore {
            client,
            connection: tokio::sync::Mutex::new(None),
            prefix: "deck:".into(),
            take: redis::Script::new(TAKE),
            release: redis::Script::new(RELEASE),
        })
    }

    /// The key prefix (default `deck:`): stores with the same prefix share state; use one per
    /// Deck organisation.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    async fn connection(&self) -> Result<MultiplexedConnection, Error> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref() {
            return Ok(connection.clone());
        }
        let connection = self
            .client
            .get_multiplexed_async_connection()
            .await
            .map_err(store_error)?;
        *slot = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets a connection that failed, so the next call connects again.
    async fn failed(&self, e: redis::RedisError) -> Error {
        if e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() {
            *self.connection.lock().await = None;
        }
        store_error(e)
    }

    fn key(&self, parts: &[&str]) -> String {
        let mut key = self.prefix.clone();
        key.push_str(&parts.concat());
        key
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl RateLimitStore for RedisStore {
    fn try_take<'a>(
        &'a self,
        limit: RateLimit,
        hold: Duration,
    ) -> BoxFuture<'a, Result<Result<String, Duration>, Error>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let token = uuid::Uuid::new_v4().simple().to_string();
            let answer: i64 = match self
                .take
                .key(self.key(&["rate"]))
                .arg(limit.requests())
                .arg(millis(limit.period()))
                .arg(millis(hold))
                .arg(&token)
                .invoke_async(&mut connection)
                .await
            {
                Ok(answer) => answer,
                Err(e) => return Err(self.failed(e).await),
            };
            Ok(if answer < 0 {
                Ok(token)
            } else {
                Err(Duration::from_millis(answer.max(1) as u64))
            })
        })
    }

    fn release<'a>(&'a self, token: &'a str, used: bool) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let result: Result<i64, _> = self
                .release
                .key(self.key(&["rate"]))
                .arg(token)
                .arg(if used { "1" } else { "0" })
                .invoke_async(&mut connection)
                .await;
            match result {
                Ok(_) => Ok(()),
                Err(e) => Err(self.failed(e).await),
            }
        })
    }
}

impl EventDedup for RedisStore {
    fn first_sighting<'a>(
        &'a self,
        event_id: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let set: Result<Option<String>, _> = redis::cmd("SET")
                .arg(self.key(&["event:", event_id]))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl).max(1))
                .query_async(&mut connection)
                .await;
            match set {
                Ok(answer) => Ok(answer.is_some()),
                Err(e) => Err(self.failed(e).await),
            }
        })
    }
}

impl CheckpointStore for RedisStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<FeedCheckpoint>, Error>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let got: Result<Option<String>, _> = redis::cmd("GET")
                .arg(self.key(&["checkpoint:", name]))
                .query_async(&mut connection)
                .await;
            match got {
                Ok(None) => Ok(None),
                Ok(Some(json)) => serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|e| Error::Store(format!("checkpoint `{name}`: {e}"))),
                Err(e) => Err(self.failed(e).await),
            }
        })
    }

    fn save<'a>(
        &'a self,
        name: &'a str,
        checkpoint: &'a FeedCheckpoint,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let json =
                serde_json::to_string(checkpoint).map_err(|e| Error::Store(e.to_string()))?;
            let mut connection = self.connection().await?;
            let set: Result<(), _> = redis::cmd("SET")
                .arg(self.key(&["checkpoint:", name]))
                .arg(json)
                .query_async(&mut connection)
                .await;
            match set {
                Ok(()) => Ok(()),
                Err(e) => Err(self.failed(e).await),
            }
        })
    }
}
