package ipam

import (
	"errors"
	"fmt"
	"testing"
)

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{errors.New("x"), "Other"},
		{errorf(ErrPoolExhausted, "x"), "PoolExhausted"},
		{fmt.Errorf("ctx: %w", errorf(ErrUnknownPool, "x")), "UnknownPool"},
		{errorf(ErrSharingRefused, "x"), "SharingRefused"},
		{errorf(ErrIPInUse, "x"), "IPInUse"},
	}
	for _, tt := range tests {
		if got := Reason(tt.err); got != tt.want {
			t.Errorf("Reason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
	for _, r := range reasons {
		if got := Reason(errorf(r.err, "detail")); got != r.reason {
			t.Errorf("Reason of %v = %q, want %q", r.err, got, r.reason)
		}
	}
}
