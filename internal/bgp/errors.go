package bgp

import "errors"

// Sentinel errors. Errors returned by Set wrap them, so callers test them
// with errors.Is.
var (
	// ErrInvalidSession: a session that Set cannot apply as given. An
	// invalid session is left as it was: running with its last good
	// configuration, or absent.
	ErrInvalidSession = errors.New("invalid BGP session")
	// ErrInvalidPath: a path that Set cannot advertise as given; it is not
	// advertised (and withdrawn if an earlier version was).
	ErrInvalidPath = errors.New("invalid BGP path")
	// ErrApply: GoBGP refused an operation. What was applied before the
	// failure stays applied, and the next Set retries the rest.
	ErrApply = errors.New("apply BGP change")
	// ErrStopped: Run has returned, so nothing can be applied any more.
	ErrStopped = errors.New("BGP speaker stopped")
	// ErrAlreadyRunning: Run was called twice.
	ErrAlreadyRunning = errors.New("BGP speaker already running")
)
