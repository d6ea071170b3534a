//! The seam between the operations and an engine: a connection inside a transaction that runs
//! one statement at a time with typed parameters and answers rows of typed cells.
//!
//! Statements use `$1`, `$2`, … for parameters: PostgreSQL's own spelling, and in SQLite a
//! named parameter that each engine binds by its number.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use realname_core::store::{StoreError, StoreResult};
use uuid::Uuid;

/// A future that may move between threads, borrowing for `'a`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Work on one transaction: a store operation with its arguments, handed to an engine.
pub type Work<T> = Box<dyn for<'c> FnOnce(&'c mut dyn Db) -> BoxFuture<'c, StoreResult<T>> + Send>;

/// Which SQL an engine speaks, for the few statements the two do not share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The statement of this dialect.
    pub fn pick(self, sqlite: &'static str, postgres: &'static str) -> &'static str {
        match self {
            Dialect::Sqlite => sqlite,
            Dialect::Postgres => postgres,
        }
    }
}

/// A statement's parameter. Each engine stores a kind in its own column type (a moment is
/// `TIMESTAMPTZ` on PostgreSQL and fixed-width RFC 3339 text on SQLite), so parameters say
/// what they are, NULLs included.
#[derive(Debug, Clone, Copy)]
pub enum Param<'a> {
    Text(Option<&'a str>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Bytes(Option<&'a [u8]>),
    Moment(Option<DateTime<Utc>>),
    Id(Option<Uuid>),
    /// A list, for `= ANY($n)` on PostgreSQL and `IN (SELECT value FROM json_each($n))` on
    /// SQLite.
    Ids(&'a [Uuid]),
    Texts(&'a [&'a str]),
    Blobs(&'a [&'a [u8]]),
}

macro_rules! param_from {
    ($($ty:ty => $variant:ident $(($conv:expr))?),* $(,)?) => {$(
        impl<'a> From<$ty> for Param<'a> {
            fn from(value: $ty) -> Param<'a> {
                Param::$variant(Some(param_from!(@conv value $(, $conv)?)))
            }
        }
        impl<'a> From<Option<$ty>> for Param<'a> {
            fn from(value: Option<$ty>) -> Param<'a> {
                Param::$variant(value.map(|value| param_from!(@conv value $(, $conv)?)))
            }
        }
    )*};
    (@conv $value:ident) => { $value };
    (@conv $value:ident, $conv:expr) => { ($conv)($value) };
}

param_from! {
    &'a str => Text,
    &'a String => Text(String::as_str),
    i64 => Int,
    i32 => Int(i64::from),
    u32 => Int(i64::from),
    bool => Bool,
    &'a [u8] => Bytes,
    &'a Vec<u8> => Bytes(Vec::as_slice),
    DateTime<Utc> => Moment,
    Uuid => Id,
}

impl<'a> From<&'a [Uuid]> for Param<'a> {
    fn from(value: &'a [Uuid]) -> Param<'a> {
        Param::Ids(value)
    }
}

impl<'a> From<&'a [&'a [u8]]> for Param<'a> {
    fn from(value: &'a [&'a [u8]]) -> Param<'a> {
        Param::Blobs(value)
    }
}

impl<'a> From<&'a [&'a str]> for Param<'a> {
    fn from(value: &'a [&'a str]) -> Param<'a> {
        Param::Texts(value)
    }
}

/// The parameters of a statement, in order: `args![a, b]` is `$1 = a, $2 = b`.
#[macro_export]
macro_rules! args {
    ($($value:expr),* $(,)?) => {
        &[$($crate::db::Param::from($value)),*]
    };
}

/// One value of a row as the engine answered it.
#[derive(Debug, Clone, Default)]
pub enum Cell {
    #[default]
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
    Moment(DateTime<Utc>),
    Id(Uuid),
    /// A PostgreSQL array.
    List(Vec<Cell>),
}

/// The values of a PostgreSQL array column; NULL reads as none.
#[derive(Debug)]
pub struct List<T>(pub Vec<T>);

impl<T: FromCell> FromCell for List<T> {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::List(cells) => cells
                .into_iter()
                .map(T::from_cell)
                .collect::<StoreResult<_>>()
                .map(List),
            Cell::Null => Ok(List(Vec::new())),
            other => Err(unreadable(&format!("{other:?} is not a list"))),
        }
    }
}

/// A row of a result. Cells are taken out by position, once each.
#[derive(Debug, Default)]
pub struct Row(pub Vec<Cell>);

impl Row {
    /// The cell at `index` as a `T`.
    pub fn get<T: FromCell>(&mut self, index: usize) -> StoreResult<T> {
        let cell = self
            .0
            .get_mut(index)
            .map(std::mem::take)
            .ok_or_else(|| unreadable(&format!("no column {index}")))?;
        T::from_cell(cell)
    }
}

fn unreadable(what: &str) -> StoreError {
    StoreError::Failed(format!("unreadable column: {what}"))
}

/// A type a cell can be read as.
pub trait FromCell: Sized {
    fn from_cell(cell: Cell) -> StoreResult<Self>;
}

impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Null => Ok(None),
            cell => T::from_cell(cell).map(Some),
        }
    }
}

impl FromCell for String {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Text(text) => Ok(text),
            other => Err(unreadable(&format!("{other:?} is not text"))),
        }
    }
}

impl FromCell for i64 {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Int(n) => Ok(n),
            Cell::Bool(b) => Ok(i64::from(b)),
            other => Err(unreadable(&format!("{other:?} is not a number"))),
        }
    }
}

macro_rules! narrow_int {
    ($($ty:ty),*) => {$(
        impl FromCell for $ty {
            fn from_cell(cell: Cell) -> StoreResult<Self> {
                let wide = i64::from_cell(cell)?;
                <$ty>::try_from(wide).map_err(|_| unreadable(&format!("{wide} is out of range")))
            }
        }
    )*};
}
narrow_int!(i32, u32, u64, u16, u8);

/// A name the core parses (a status, a mode, a kind): a column holding another is a failure.
macro_rules! named_cell {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl FromCell for $ty {
            fn from_cell(cell: Cell) -> StoreResult<Self> {
                let name = String::from_cell(cell)?;
                <$ty>::parse(&name).ok_or_else(|| unreadable(&format!("{name:?} is no {}", $what)))
            }
        }
    )*};
}

named_cell!(
    realname_core::state::Status => "status",
    realname_core::platform::KeyMode => "key mode",
    realname_core::platform::SessionPurpose => "session purpose",
    realname_core::platform::EventType => "event type",
    realname_core::platform::DeliveryState => "delivery state",
    realname_core::store::JobKind => "job kind",
);

impl FromCell for bool {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Bool(b) => Ok(b),
            Cell::Int(n) => Ok(n != 0),
            other => Err(unreadable(&format!("{other:?} is not a truth value"))),
        }
    }
}

impl FromCell for Vec<u8> {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Bytes(bytes) => Ok(bytes),
            other => Err(unreadable(&format!("{other:?} is not bytes"))),
        }
    }
}

impl FromCell for DateTime<Utc> {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Moment(at) => Ok(at),
            Cell::Text(text) => DateTime::parse_from_rfc3339(&text)
                .map(|at| at.with_timezone(&Utc))
                .map_err(|_| unreadable("a moment that is not RFC 3339")),
            other => Err(unreadable(&format!("{other:?} is not a moment"))),
        }
    }
}

impl FromCell for Uuid {
    fn from_cell(cell: Cell) -> StoreResult<Self> {
        match cell {
            Cell::Id(id) => Ok(id),
            Cell::Text(text) => Uuid::parse_str(&text).map_err(|_| unreadable("an id")),
            other => Err(unreadable(&format!("{other:?} is not an id"))),
        }
    }
}

/// A connection inside a transaction.
#[async_trait::async_trait]
pub trait Db: Send {
    fn dialect(&self) -> Dialect;
    /// Runs a statement; answers how many rows it changed.
    async fn exec(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<u64>;
    /// Runs a query; answers every row.
    async fn rows(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<Vec<Row>>;
    /// Serialises the writers of one key (`seed` names the kind of key) until the transaction
    /// ends: an advisory lock on PostgreSQL, where nodes write at once; nothing on SQLite,
    /// whose one writer runs one transaction at a time.
    async fn lock(&mut self, seed: i64, key: &str) -> StoreResult<()>;
    /// Applies many changes at once where the engine has a faster path than one at a time
    /// (PostgreSQL's statements over arrays); `None` where it has none, and the caller applies
    /// them one by one.
    async fn apply_all(
        &mut self,
        _changes: &[realname_core::store::StateChange],
    ) -> StoreResult<Option<realname_core::store::Applied>> {
        Ok(None)
    }
}

impl dyn Db + '_ {
    /// Runs a statement for its effect.
    pub async fn run(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<()> {
        self.exec(sql, args).await.map(drop)
    }

    /// Runs a statement; answers whether it changed a row.
    pub async fn changed(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<bool> {
        self.exec(sql, args).await.map(|n| n > 0)
    }

    /// The first row, if any.
    pub async fn row(&mut self, sql: &str, args: &[Param<'_>]) -> StoreResult<Option<Row>> {
        Ok(self.rows(sql, args).await?.into_iter().next())
    }

    /// The first column of the first row, if there is a row.
    pub async fn value<T: FromCell>(
        &mut self,
        sql: &str,
        args: &[Param<'_>],
    ) -> StoreResult<Option<T>> {
        match self.row(sql, args).await? {
            Some(mut row) => row.get(0).map(Some),
            None => Ok(None),
        }
    }

    /// Each row read by `read`.
    pub async fn all<T>(
        &mut self,
        sql: &str,
        args: &[Param<'_>],
        read: impl Fn(Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.rows(sql, args).await?.into_iter().map(read).collect()
    }

    /// The first row read by `read`, if there is one.
    pub async fn one<T>(
        &mut self,
        sql: &str,
        args: &[Param<'_>],
        read: impl FnOnce(Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.row(sql, args).await?.map(read).transpose()
    }
}

/// Where an engine runs work: writes in one transaction each, reads on a snapshot.
pub trait Engine: Clone + Send + Sync + 'static {
    fn write<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send;
    fn read<T: Send + 'static>(&self, work: Work<T>)
    -> impl Future<Output = StoreResult<T>> + Send;
    /// A read that may take long (an image, a trail), kept off the threads that serve
    /// requests where the engine would otherwise run it on them.
    fn read_long<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        self.read(work)
    }

    /// A write that is one statement (or statements that need no transaction to hold
    /// together): PostgreSQL runs it without `BEGIN` and `COMMIT`, two round trips fewer.
    fn write_once<T: Send + 'static>(
        &self,
        work: Work<T>,
    ) -> impl Future<Output = StoreResult<T>> + Send {
        self.write(work)
    }

    /// Makes erased values unrecoverable from the engine's files, beyond the rows (SQLite
    /// checkpoints its write-ahead log).
    fn settle_erasures(&self) -> impl Future<Output = StoreResult<()>> + Send {
        std::future::ready(Ok(()))
    }
}

/// Work from a closure: `work(move |db| Box::pin(async move { … }))`.
pub fn work<T, F>(f: F) -> Work<T>
where
    F: for<'c> FnOnce(&'c mut dyn Db) -> BoxFuture<'c, StoreResult<T>> + Send + 'static,
{
    Box::new(f)
}

/// Runs a future that never waits: the SQLite engine's work, whose every statement completes
/// on the thread that runs it. A future that would wait is refused rather than blocked on.
pub fn run_ready<T>(future: BoxFuture<'_, StoreResult<T>>) -> StoreResult<T> {
    let mut future = future;
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(outcome) => outcome,
        std::task::Poll::Pending => Err(StoreError::Failed(
            "a store operation waited on an engine that never waits".into(),
        )),
    }
}

/// A port method's argument as the work on an engine takes it: owned, so that the work may
/// outlive the caller's borrow (a write finishes even when its caller stops waiting), and
/// lent to the operation as the port's own type.
pub trait Arg {
    type Owned: Send + 'static;
    type View<'o>
    where
        Self: 'o;
    fn own(self) -> Self::Owned;
    fn view(owned: &Self::Owned) -> Self::View<'_>;
}

impl<T> Arg for &T
where
    T: ToOwned + ?Sized,
    T::Owned: Send + 'static,
{
    type Owned = T::Owned;
    type View<'o>
        = &'o T
    where
        Self: 'o;
    fn own(self) -> T::Owned {
        self.to_owned()
    }
    fn view(owned: &T::Owned) -> &T {
        std::borrow::Borrow::borrow(owned)
    }
}

impl Arg for Option<&[String]> {
    type Owned = Option<Vec<String>>;
    type View<'o>
        = Option<&'o [String]>
    where
        Self: 'o;
    fn own(self) -> Self::Owned {
        self.map(<[String]>::to_vec)
    }
    fn view(owned: &Self::Owned) -> Option<&[String]> {
        owned.as_deref()
    }
}

/// Arguments passed by value are lent as copies.
macro_rules! copied_arg {
    ($($ty:ty),* $(,)?) => {$(
        impl Arg for $ty {
            type Owned = $ty;
            type View<'o> = $ty;
            fn own(self) -> $ty {
                self
            }
            fn view(owned: &$ty) -> $ty {
                owned.clone()
            }
        }
    )*};
}

copied_arg!(
    Uuid,
    DateTime<Utc>,
    bool,
    u8,
    u16,
    u32,
    i64,
    Option<i64>,
    Option<Uuid>,
    Option<(DateTime<Utc>, Uuid)>,
    realname_core::platform::KeyMode,
    Option<realname_core::platform::KeyMode>,
    realname_core::store::CaseFilter,
    Option<realname_core::store::CaseKind>,
    realname_core::store::SealedColumn,
);

/// A batch of values sealed anew, lent as a slice rather than copied again.
impl Arg for Vec<realname_core::store::Resealed> {
    type Owned = Self;
    type View<'o> = &'o [realname_core::store::Resealed];
    fn own(self) -> Self {
        self
    }
    fn view(owned: &Self) -> &[realname_core::store::Resealed] {
        owned
    }
}
