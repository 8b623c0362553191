package main

import (
	"io"
	"testing"
	"time"

	"github.com/heraldlb/herald/internal/metrics"
)

func TestDefaults(t *testing.T) {
	f, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := reconcileOptions(f, "me", metrics.NewController())
	le := o.Leader
	if !le.Enabled || le.Namespace != "herald-system" || le.Identity != "me" {
		t.Errorf("leader election = %+v, want it on, in herald-system, as me", le)
	}
	// The leader writes the Lease once per retry period.
	if le.RetryPeriod < time.Second {
		t.Errorf("retry period %v: more than one Lease write per second", le.RetryPeriod)
	}
	// A standby takes over within the lease duration and up to 2.2 retry
	// periods of client-go's jittered polling; the target is 5 s.
	if worst := le.LeaseDuration + 2200*le.RetryPeriod/1000; le.LeaseDuration > 3*time.Second || worst > 6*time.Second {
		t.Errorf("lease %v, retry %v: takeover could take %v", le.LeaseDuration, le.RetryPeriod, worst)
	}
	if !(le.LeaseDuration > le.RenewDeadline && le.RenewDeadline > 1200*le.RetryPeriod/1000) {
		t.Errorf("timings %+v break client-go's rule lease > renew > 1.2 × retry", le)
	}
	mo, err := managerOptions(f)
	if err != nil {
		t.Fatal(err)
	}
	if mo.LeaderElection {
		t.Errorf("controller-runtime's leader election is on: it would end the process on a lost Lease")
	}
	if !mo.Metrics.SecureServing || mo.Metrics.FilterProvider == nil || mo.Metrics.BindAddress != ":8443" {
		t.Errorf("metrics = %+v, want HTTPS on :8443 with authentication and authorization", mo.Metrics)
	}
	if o.SpeakerSecrets == nil || o.SpeakerSecrets.Memberlist != "herald-memberlist" || len(mo.Cache.ByObject) != 1 {
		t.Errorf("speaker secrets role %+v, cache %+v: want it kept, for herald-memberlist, with its Role alone cached", o.SpeakerSecrets, mo.Cache.ByObject)
	}
	if mo.HealthProbeBindAddress != ":8081" {
		t.Errorf("probes on %q, want their own port :8081", mo.HealthProbeBindAddress)
	}
}

func TestFlags(t *testing.T) {
	f, err := parseFlags([]string{"--kubeconfig=/dev/null", "--leader-elect=false", "--leader-elect-lease-duration=10s", "--metrics-secure=false", "--metrics-bind-address=0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o := reconcileOptions(f, "me", metrics.NewController())
	if o.Leader.Enabled || o.Leader.LeaseDuration != 10*time.Second {
		t.Errorf("leader = %+v", o.Leader)
	}
	mo, err := managerOptions(f)
	if err != nil {
		t.Fatal(err)
	}
	if mo.Metrics.SecureServing || mo.Metrics.FilterProvider != nil {
		t.Errorf("metrics = %+v, want plain", mo.Metrics)
	}
	if _, err := parseFlags([]string{"--leader-elect-lease-duration=soon"}, io.Discard); err == nil {
		t.Errorf("a malformed duration was accepted")
	}
}
