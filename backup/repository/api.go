package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// FormatVersion is the version of backup/FORMAT.md this package writes. It
// reads every version from 1 to this one: format 2 added the row hash kind
// of table entries (package backup's), which format 1 readers would
// misread, so they refuse format 2 repositories and manifests.
const FormatVersion = 2

// Sentinel errors. Every error returned by this package that callers may
// branch on wraps one of these (test with errors.Is); the message names the
// snapshot, object or file concerned.
var (
	// ErrWrongPassphrase: no key file of the repository opens with the passphrase.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrNotRepository: the location holds no dataops repository config (or a foreign one).
	ErrNotRepository = errors.New("not a dataops backup repository")
	// ErrNewerFormat: the repository's format is newer than this code reads.
	ErrNewerFormat = errors.New("repository format is newer than this dataops")
	// ErrExists: Init found a repository already present.
	ErrExists = errors.New("repository already exists")
	// ErrNotFound: a snapshot or object does not exist.
	ErrNotFound = errors.New("not found")
	// ErrLocked: a snapshot (or an object it references) is under retention or a legal hold.
	ErrLocked = errors.New("locked")
	// ErrCorrupt: a stored object fails to open, authenticate, parse or match its id.
	ErrCorrupt = errors.New("corrupt")
	// ErrAmbiguous: a snapshot id prefix matches more than one snapshot.
	ErrAmbiguous = errors.New("ambiguous snapshot id prefix")
)

// LockedError reports that a snapshot is protected by retention. It matches
// ErrLocked with errors.Is.
type LockedError struct {
	Snapshot  string    // full snapshot id
	Object    string    // object id when the refused delete was of a referenced object
	LockUntil time.Time // zero when only holds apply
	Mode      RetentionMode
	Holds     []string
}

// Error says what protects the snapshot and until when.
func (e *LockedError) Error() string {
	var why []string
	if !e.LockUntil.IsZero() {
		why = append(why, fmt.Sprintf("locked until %s (%s)", e.LockUntil.UTC().Format(time.RFC3339), e.Mode))
	}
	if len(e.Holds) > 0 {
		why = append(why, "legal hold "+strings.Join(e.Holds, ", "))
	}
	subj := "snapshot " + e.Snapshot
	if e.Object != "" {
		subj = "object " + e.Object + " of " + subj
	}
	return subj + " is " + strings.Join(why, " and ")
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// CorruptError names a damaged stored object (by its name in the repository)
// and the snapshots it breaks. It matches ErrCorrupt with errors.Is.
type CorruptError struct {
	Name      string   // e.g. "data/ab/ab12…", "snapshots/…", "config"
	Snapshots []string // snapshots that reference it, when known
	Err       error    // the underlying cause
}

// Error names the damaged object, the snapshots it breaks and the cause.
func (e *CorruptError) Error() string {
	s := "corrupt " + e.Name
	if len(e.Snapshots) > 0 {
		s += " (breaks snapshot " + strings.Join(e.Snapshots, ", ") + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is makes errors.Is(err, ErrCorrupt) true.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Unwrap returns the cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// KDF names the passphrase key derivation function of a key file.
type KDF string

// Supported key derivation functions.
const (
	KDFArgon2id KDF = "argon2id" // default
	KDFScrypt   KDF = "scrypt"
)

// KDFParams tunes the key derivation. Zero fields take the defaults of
// FORMAT.md §3 (argon2id t=3, 64 MiB, 4 threads; scrypt N=32768, r=8, p=1).
// Tests use small values to stay fast.
type KDFParams struct {
	Time      uint32 // argon2id passes
	MemoryKiB uint32 // argon2id memory
	Threads   uint8  // argon2id parallelism
	N, R, P   int    // scrypt
}

// ObjectLocker sets a provider-side retention on one bucket key (S3 Object
// Lock, GCS retention, Azure immutability). Keys are full bucket keys
// (including the repository prefix). Repositories find one automatically when
// the bucket's As(&locker) yields one (repotest's fake does) or when the
// bucket is s3blob with Object Lock enabled; Options.ObjectLocker overrides.
type ObjectLocker interface {
	SetRetention(ctx context.Context, key string, until time.Time, mode RetentionMode) error
}

// Options are common to Init, Open and OpenBucket. The zero value is useful.
type Options struct {
	// Passphrase unlocks (or, at Init, protects) the keys. Empty means an
	// unencrypted repository.
	Passphrase string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Events receives start/progress/finish/error events of every operation,
	// one call at a time (never concurrently); it must not call back into
	// the repository.
	Events func(Event)
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Hostname recorded in key files, locks and defaults of manifests; empty means os.Hostname.
	Hostname string
	// LockWait bounds how long an operation waits for a conflicting lock;
	// zero means 2 minutes.
	LockWait time.Duration
	// Concurrency bounds parallel bucket requests; zero means 8.
	Concurrency int
	// ObjectLocker overrides the provider object lock discovered from the bucket.
	ObjectLocker ObjectLocker
	// NoObjectLock disables provider object lock even where the bucket has it.
	NoObjectLock bool
}

// InitOptions configure a new repository.
type InitOptions struct {
	Options
	KDF       KDF        // empty means argon2id
	KDFParams *KDFParams // nil means defaults
	PartRows  int64      // bound for one Parquet part (config part_rows); 0 = 1,000,000
	PartBytes int64      // config part_bytes; 0 = 128 MiB
}

// OpenOptions configure opening an existing repository.
type OpenOptions struct {
	Options
}

// Config is the repository's config object (FORMAT.md §2).
type Config struct {
	Format      int       `json:"format"`
	ID          string    `json:"id"`
	Created     time.Time `json:"created"`
	Compression string    `json:"compression"`
	Encryption  string    `json:"encryption"`
	PartRows    int64     `json:"part_rows"`
	PartBytes   int64     `json:"part_bytes"`
	MAC         string    `json:"mac,omitempty"`
}

// Init creates a repository at a gocloud.dev/blob URL (file:///dir, mem://,
// s3://bucket?endpoint=…&prefix=repo/, gs://…, azblob://…). It fails with
// ErrExists if one is there. The returned Repository owns the bucket.
func Init(ctx context.Context, url string, opts InitOptions) (*Repository, error) {
	return initURL(ctx, url, opts)
}

// InitBucket creates a repository under prefix of a bucket the caller opened
// (and keeps owning: Close does not close it).
func InitBucket(ctx context.Context, b *blob.Bucket, prefix string, opts InitOptions) (*Repository, error) {
	return initBucket(ctx, b, prefix, opts, false)
}

// Open opens the repository at a gocloud.dev/blob URL. Errors: ErrNotRepository,
// ErrNewerFormat, ErrWrongPassphrase, ErrCorrupt (config MAC mismatch).
func Open(ctx context.Context, url string, opts OpenOptions) (*Repository, error) {
	return openURL(ctx, url, opts)
}

// OpenBucket opens the repository under prefix of a bucket the caller opened
// (and keeps owning).
func OpenBucket(ctx context.Context, b *blob.Bucket, prefix string, opts OpenOptions) (*Repository, error) {
	return openBucket(ctx, b, prefix, opts, false)
}

// ObjectMeta describes a data object being stored.
type ObjectMeta struct {
	Kind string // "parquet" when empty
	Rows int64  // rows in the object, recorded in the index
}

// ObjectInfo describes a stored data object, as its index entry does (FORMAT.md §6).
type ObjectInfo struct {
	ID       string    `json:"id"`
	Kind     string    `json:"kind"`
	Rows     int64     `json:"rows"`
	Bytes    int64     `json:"bytes"`  // plaintext size
	Stored   int64     `json:"stored"` // bytes in the bucket
	Created  time.Time `json:"created"`
	Uploaded bool      `json:"-"` // false when the object was already present (deduplicated)
}

// RetentionMode is the mode of a retention lock.
type RetentionMode string

// Retention modes (FORMAT.md §8).
const (
	Governance RetentionMode = "governance" // shortened only with Override
	Compliance RetentionMode = "compliance" // never shortened
)

// Retention is the manifest's retention block. A zero LockUntil is stored as null.
type Retention struct {
	LockUntil  time.Time     `json:"lock_until"`
	Mode       RetentionMode `json:"mode,omitempty"`
	LegalHolds []string      `json:"legal_holds,omitempty"`
}

// Manifest is a snapshot manifest (FORMAT.md §7). This package reads the
// header fields and, from Tables, only the object references (the parts of
// each table's data and its base links); the rest of Tables belongs to
// package backup and is stored byte-for-byte (canonicalised).
type Manifest struct {
	Format      int             `json:"format"`
	Time        time.Time       `json:"time"`
	Parent      string          `json:"parent"` // "" is stored as null
	Kind        string          `json:"kind"`   // full | incremental | synthetic
	Source      json.RawMessage `json:"source,omitempty"`
	Host        string          `json:"host,omitempty"`
	Tags        []string        `json:"tags"`
	Consistency string          `json:"consistency,omitempty"`
	Tables      json.RawMessage `json:"tables"`
	Retention   Retention       `json:"retention"`
}

// Reference is one data object a manifest's table entry uses.
type Reference struct {
	Object string // object id
	Table  string // "schema.name"
	Role   string // "parts", "upserts" or "deletes"
	Rows   int64  // rows the manifest expects in it
}

// References returns the data objects the manifest's tables reference and the
// snapshot ids their "base" fields name. It fails with ErrCorrupt on a tables
// value that does not follow FORMAT.md §7.
func (m *Manifest) References() (refs []Reference, bases []string, err error) {
	return manifestRefs(m)
}

// Snapshot is a stored manifest with its id.
type Snapshot struct {
	ID       string
	Manifest *Manifest
	Raw      []byte // the canonical JSON the id is the hash of
}

// SnapshotInfo summarises a snapshot for listings.
type SnapshotInfo struct {
	ID        string
	Time      time.Time
	Parent    string
	Kind      string
	Host      string
	Tags      []string
	Source    json.RawMessage
	Tables    []string // "schema.name" of each table entry
	Retention EffectiveRetention
}

// EffectiveRetention is a manifest's retention merged with its retention records.
type EffectiveRetention struct {
	LockUntil time.Time // zero: no time lock
	Mode      RetentionMode
	Holds     []string
}

// Locked reports whether the retention protects the snapshot at time now.
func (e EffectiveRetention) Locked(now time.Time) bool {
	return len(e.Holds) > 0 || (!e.LockUntil.IsZero() && now.Before(e.LockUntil))
}

// LockOptions tune Lock.
type LockOptions struct {
	// Override lets a governance-mode lock be shortened (never a compliance one).
	Override bool
}

// DeleteOptions tune Delete.
type DeleteOptions struct {
	DryRun bool
}

// Policy is restic's forget policy. A snapshot is kept if any rule keeps it.
// Counts are per group; -1 means unlimited. A zero Policy keeps everything
// (Forget refuses to remove anything without a rule).
type Policy struct {
	Last, Hourly, Daily, Weekly, Monthly, Yearly int
	Within                                       time.Duration // keep snapshots newer than latest-Within
	Tags                                         []string      // keep snapshots with any of these tags ("a,b" means both)
	// GroupBy groups snapshots before applying the policy: any of "host",
	// "source", "tables", "tags", comma separated; empty means one group.
	GroupBy string
}

// ForgetOptions tune Forget.
type ForgetOptions struct {
	DryRun bool
	// Override allows forgetting past governance retention.
	Override bool
}

// Decision is what Forget decided for one snapshot and why.
type Decision struct {
	Snapshot SnapshotInfo
	Keep     bool
	Reasons  []string // e.g. "last snapshot", "daily snapshot", "locked until 2027-01-01T00:00:00Z"
}

// ForgetGroup is the outcome for one group of snapshots, newest first.
type ForgetGroup struct {
	Key       string
	Decisions []Decision
}

// ForgetResult lists every decision; Removed the snapshots deleted (or that
// would be, with DryRun).
type ForgetResult struct {
	Groups  []ForgetGroup
	Removed []string
}

// PruneOptions tune Prune.
type PruneOptions struct {
	// SafetyWindow: a mark is swept only once it is older than this. Zero
	// means one hour; use a negative value for "sweep immediately" in tests.
	SafetyWindow time.Duration
	DryRun       bool
}

// PruneResult reports a prune.
type PruneResult struct {
	Marked       []string // objects condemned by the new mark
	Deleted      []string // objects deleted by the sweep
	Kept         []string // condemned objects the sweep kept (referenced again or revived)
	DeletedBytes int64    // stored bytes freed
	MarksSwept   int
}

// CopyOptions tune Copy.
type CopyOptions struct {
	// Move deletes the originals after copying (refusing locked snapshots).
	Move bool
}

// CopyResult reports a copy.
type CopyResult struct {
	Snapshots []string          // source ids requested
	Mapping   map[string]string // source snapshot id → id in the destination (ids differ when keys differ), bases included
	Objects   int               // data objects uploaded to the destination
	Bytes     int64             // plaintext bytes uploaded
	Deleted   []string          // originals deleted (Move)
}

// VerifyOptions choose the checks of Verify.
type VerifyOptions struct {
	// ReadData reads every data object (or Subset of them) and re-derives its id.
	ReadData bool
	// Subset is "n/t" (the n-th of t groups, by object id) or "x%" (a
	// deterministic x percent by object id). Empty means all. Implies ReadData.
	Subset string
	// CheckData, when set, also receives each read object's plaintext (and its
	// expected rows) to check, e.g., its Parquet footer; a returned error is a
	// problem naming the object. Without it Verify checks the Parquet footer
	// and row count itself for "parquet" objects. It is called from several
	// goroutines at once; r serves only the first 64 KiB and the last 8 MiB
	// of the object (enough for a Parquet footer), other reads fail.
	CheckData func(ctx context.Context, obj ObjectInfo, r io.ReaderAt, size int64) error
}

// Problem is one verification finding.
type Problem struct {
	Name      string   // the stored object, e.g. "data/ab/ab12…", "index/…", "snapshots/…", "config"
	Snapshots []string // every snapshot it breaks
	Err       error
}

// String names the object, the cause and the snapshots it breaks.
func (p Problem) String() string {
	s := p.Name + ": " + p.Err.Error()
	if len(p.Snapshots) > 0 {
		s += " (breaks snapshot " + strings.Join(p.Snapshots, ", ") + ")"
	}
	return s
}

// Report is the outcome of Verify.
type Report struct {
	Snapshots   int
	Indexes     int
	Objects     int   // objects named by indexes or manifests
	ObjectsRead int   // objects read with ReadData
	BytesRead   int64 // plaintext bytes read
	Problems    []Problem
	// Unindexed lists data objects that no index names and no manifest
	// references: left by an interrupted backup, not a problem; prune
	// removes them.
	Unindexed []string
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Phase is the stage of an operation an Event reports.
type Phase string

// Event phases.
const (
	PhaseStart    Phase = "start"
	PhaseProgress Phase = "progress"
	PhaseFinish   Phase = "finish"
	PhaseError    Phase = "error"
)

// Event reports the progress of an operation (put, fetch, commit, forget,
// prune, copy, verify, …) for monitoring; package backup emits the same type.
type Event struct {
	Time    time.Time
	Op      string // "put", "fetch", "commit", "forget", "prune.mark", "prune.sweep", "copy", "verify", …
	Phase   Phase
	Subject string // object or snapshot id, or table, when there is one
	Rows    int64
	Bytes   int64
	Objects int64
	Elapsed time.Duration // since start
	Err     error         // PhaseError only
	Message string
}

// Repository is an open backup repository. Its methods are safe for
// concurrent use.
type Repository struct {
	r *repo
}

// Close releases the repository (and closes the bucket when it was opened from a URL).
func (r *Repository) Close() error { return r.r.close() }

// Config returns the repository's config.
func (r *Repository) Config() Config { return r.r.cfg }

// Encrypted reports whether the repository is encrypted.
func (r *Repository) Encrypted() bool { return r.r.keys != nil }

// ChangePassphrase writes a key file for newPassphrase and then deletes the
// key file that opened the repository.
func (r *Repository) ChangePassphrase(ctx context.Context, newPassphrase string, kdf KDF, params *KDFParams) error {
	return r.r.changePassphrase(ctx, newPassphrase, kdf, params)
}

// PutFile stores the local file at path as a data object: it derives the
// object id from the plaintext, skips the upload when the object exists, and
// otherwise streams it sealed (zstd, and AES-256-GCM when encrypted) in framed
// chunks, holding at most a few MiB in memory.
func (r *Repository) PutFile(ctx context.Context, path string, meta ObjectMeta) (ObjectInfo, error) {
	return r.r.putFile(ctx, path, meta)
}

// PutBytes stores data as a data object, like PutFile.
func (r *Repository) PutBytes(ctx context.Context, data []byte, meta ObjectMeta) (ObjectInfo, error) {
	return r.r.putBytes(ctx, data, meta)
}

// HasObject reports whether data object id exists.
func (r *Repository) HasObject(ctx context.Context, id string) (bool, error) {
	return r.r.hasObject(ctx, id)
}

// OpenObject opens data object id for reading its plaintext. The reader
// verifies the content against the id at EOF and then returns an error
// matching ErrCorrupt instead of io.EOF if they differ; callers must read to
// EOF to benefit. A missing object gives ErrNotFound.
func (r *Repository) OpenObject(ctx context.Context, id string) (io.ReadCloser, error) {
	return r.r.openObject(ctx, id)
}

// FetchFile writes the plaintext of data object id to dstPath (through a
// temporary file renamed into place only once verified).
func (r *Repository) FetchFile(ctx context.Context, id, dstPath string) error {
	return r.r.fetchFile(ctx, id, dstPath)
}

// WriteIndex writes an index file naming objs (FORMAT.md §6). Session.Commit
// calls it; it is exported for tools that store objects outside a session.
func (r *Repository) WriteIndex(ctx context.Context, objs []ObjectInfo) error {
	return r.r.writeIndex(ctx, objs)
}

// NewSession starts a backup: objects stored through the session are
// remembered so that Commit can index them and re-upload any that a
// concurrent prune removed. Local files given to PutFile must stay in place
// until Commit returns.
func (r *Repository) NewSession() *Session {
	return &Session{r: r.r, objs: map[string]*sessionObject{}}
}

// Session collects the objects of one backup until its Commit.
type Session struct {
	r    *repo
	objs map[string]*sessionObject
	mu   sessionMu
}

// PutFile stores a data object as Repository.PutFile and records it.
func (s *Session) PutFile(ctx context.Context, path string, meta ObjectMeta) (ObjectInfo, error) {
	return s.putFile(ctx, path, meta)
}

// PutBytes stores a data object as Repository.PutBytes and records it.
func (s *Session) PutBytes(ctx context.Context, data []byte, meta ObjectMeta) (ObjectInfo, error) {
	return s.putBytes(ctx, data, meta)
}

// Objects returns the objects stored through the session so far.
func (s *Session) Objects() []ObjectInfo { return s.objects() }

// Commit runs the commit section of FORMAT.md §10: under a shared lock it
// revives or re-uploads condemned or vanished objects the manifest references,
// writes the index of the session's objects, then the manifest, and returns
// the snapshot id. Missing Format/Time/Host are filled in (Time is truncated
// to microseconds, UTC). Every object the manifest references must exist or
// have been stored through this session, else ErrNotFound names it and
// nothing is written. If the manifest's retention locks it, provider object
// lock is applied to its objects.
func (s *Session) Commit(ctx context.Context, m *Manifest) (string, error) {
	return s.commit(ctx, m)
}

// List returns every snapshot, oldest first, with its effective retention.
func (r *Repository) List(ctx context.Context) ([]SnapshotInfo, error) {
	return r.r.list(ctx)
}

// ResolveID expands a unique snapshot id prefix (at least 4 hex digits) to a
// full id. Errors: ErrNotFound, ErrAmbiguous.
func (r *Repository) ResolveID(ctx context.Context, prefix string) (string, error) {
	return r.r.resolve(ctx, prefix)
}

// LoadManifest reads and verifies a snapshot by id or unique prefix.
func (r *Repository) LoadManifest(ctx context.Context, id string) (*Snapshot, error) {
	return r.r.loadManifest(ctx, id)
}

// Delete removes a snapshot's manifest and retention records (its data stays
// until prune). A locked snapshot gives a *LockedError.
func (r *Repository) Delete(ctx context.Context, id string, opts DeleteOptions) error {
	return r.r.deleteSnapshot(ctx, id, opts, false)
}

// EffectiveRetention merges a snapshot's manifest retention with its records.
func (r *Repository) EffectiveRetention(ctx context.Context, id string) (EffectiveRetention, error) {
	return r.r.effectiveRetention(ctx, id)
}

// Lock sets the snapshot's lock_until to until in mode. lock_until only
// grows, unless opts.Override and the current mode is governance. A
// compliance lock cannot be turned into a governance one.
func (r *Repository) Lock(ctx context.Context, id string, until time.Time, mode RetentionMode, opts LockOptions) error {
	return r.r.lock(ctx, id, until, mode, opts)
}

// Hold places legal hold name on a snapshot.
func (r *Repository) Hold(ctx context.Context, id, name string) error {
	return r.r.hold(ctx, id, name, false)
}

// Release removes legal hold name from a snapshot.
func (r *Repository) Release(ctx context.Context, id, name string) error {
	return r.r.hold(ctx, id, name, true)
}

// Forget applies restic's forget policy and deletes the manifests it does not
// keep; locked snapshots are always kept ("locked until …").
func (r *Repository) Forget(ctx context.Context, p Policy, opts ForgetOptions) (ForgetResult, error) {
	return r.r.forget(ctx, p, opts)
}

// Prune sweeps the marks older than the safety window (under a short
// exclusive lock) and then marks the objects no manifest references (without
// a lock), per FORMAT.md §10. Run it again after the window to delete them.
func (r *Repository) Prune(ctx context.Context, opts PruneOptions) (PruneResult, error) {
	return r.r.prune(ctx, opts)
}

// Copy copies snapshots (ids or prefixes) with everything they reference
// (following base links) into dst, which may use another bucket, prefix or
// key. With Move it then deletes the originals, refusing locked ones.
func (r *Repository) Copy(ctx context.Context, dst *Repository, ids []string, opts CopyOptions) (CopyResult, error) {
	return r.r.copyTo(ctx, dst.r, ids, opts)
}

// Verify checks the repository's structure and, with ReadData, its data
// (FORMAT.md §11). It writes nothing. Problems are in the Report; the error
// is for failures to run (context, bucket unreachable).
func (r *Repository) Verify(ctx context.Context, opts VerifyOptions) (*Report, error) {
	return r.r.verify(ctx, opts)
}
