package ipam

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error returned by the Allocator wraps exactly one of
// these (ErrSharingRefused also wraps ErrIPInUse), so callers test them with
// errors.Is and use Reason for metrics labels.
var (
	ErrInvalidRange        = errors.New("invalid address range")
	ErrInvalidPool         = errors.New("invalid pool")
	ErrInvalidRequest      = errors.New("invalid request")
	ErrUnknownPool         = errors.New("unknown pool")
	ErrPoolNotAllowed      = errors.New("pool does not accept the service")
	ErrPoolDeleting        = errors.New("pool is being deleted")
	ErrNoPoolMatches       = errors.New("no pool matches the service")
	ErrPoolExhausted       = errors.New("pool exhausted")
	ErrIPInUse             = errors.New("IP in use")
	ErrOutsidePools        = errors.New("IP outside every pool")
	ErrNotInNamedPool      = errors.New("IP not in the named pool")
	ErrSharingRefused      = errors.New("IP sharing refused")
	ErrDualStackImpossible = errors.New("dual-stack impossible")
	ErrFamilyUnavailable   = errors.New("IP family unavailable")
)

// reasons is ordered: the first sentinel that an error matches names it.
var reasons = []struct {
	err    error
	reason string
}{
	{ErrSharingRefused, "SharingRefused"},
	{ErrIPInUse, "IPInUse"},
	{ErrInvalidRange, "InvalidRange"},
	{ErrInvalidPool, "InvalidPool"},
	{ErrInvalidRequest, "InvalidRequest"},
	{ErrUnknownPool, "UnknownPool"},
	{ErrPoolNotAllowed, "PoolNotAllowed"},
	{ErrPoolDeleting, "PoolDeleting"},
	{ErrNoPoolMatches, "NoPoolMatches"},
	{ErrPoolExhausted, "PoolExhausted"},
	{ErrOutsidePools, "OutsidePools"},
	{ErrNotInNamedPool, "NotInNamedPool"},
	{ErrDualStackImpossible, "DualStackImpossible"},
	{ErrFamilyUnavailable, "FamilyUnavailable"},
}

// Reason returns a short CamelCase reason for err, for metrics labels and
// Event reasons: "" for nil, "Other" for an error that wraps no sentinel.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "Other"
}

// detailError carries a message precise enough for a Kubernetes Event and
// the sentinels it stands for.
type detailError struct {
	msg   string
	kinds []error
}

func (e *detailError) Error() string   { return e.msg }
func (e *detailError) Unwrap() []error { return e.kinds }

// errorf returns an error with the formatted message that matches kind
// (and, for ErrSharingRefused, ErrIPInUse) with errors.Is. Verbs %w in
// format are not supported; wrap with fmt.Errorf instead.
func errorf(kind error, format string, args ...any) error {
	kinds := []error{kind}
	if kind == ErrSharingRefused {
		kinds = append(kinds, ErrIPInUse)
	}
	return &detailError{msg: fmt.Sprintf(format, args...), kinds: kinds}
}
