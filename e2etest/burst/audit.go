package burst

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/heraldlb/herald/internal/kube"
)

// auditPolicy logs every write at Metadata level and no reads, so the log
// counts exactly the API writes each user makes.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  verbs: [get, list, watch]
- level: Metadata
`

const leaseNamespace = kube.Namespace

// auditEvent is the part of an audit.k8s.io/v1 Event the benchmark reads.
type auditEvent struct {
	Verb string `json:"verb"`
	User struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	Received time.Time `json:"requestReceivedTimestamp"`
}

// Writes counts one user's API writes by kind of write.
type Writes struct {
	ServiceStatus, ServiceMetadata, Events, PoolStatus, PoolMetadata, Other int
	// Announcements counts the writes of ServiceAnnouncements, one object
	// per Service with an IP.
	Announcements int
	// LeaderElection counts the Lease and the Events recorded on it in
	// herald-system: leader-election bookkeeping, not reconciliation.
	LeaderElection int
	// Failed counts writes answered with an error code (conflicts included);
	// Conflicts those answered 409.
	Failed, Conflicts int
}

// Total is every write except leader-election Lease renewals.
func (w Writes) Total() int {
	return w.ServiceStatus + w.ServiceMetadata + w.Events + w.PoolStatus + w.PoolMetadata + w.Announcements + w.Other
}

func (w Writes) String() string {
	return fmt.Sprintf("service status %d, service metadata %d, events %d, pool status %d, pool metadata %d, serviceannouncements %d, other %d (leader election %d, failed %d, conflicts %d)",
		w.ServiceStatus, w.ServiceMetadata, w.Events, w.PoolStatus, w.PoolMetadata, w.Announcements, w.Other, w.LeaderElection, w.Failed, w.Conflicts)
}

// countWrites reads the audit log and counts the writes user made in
// [from, to).
func countWrites(path, user string, from, to time.Time) (Writes, error) {
	f, err := os.Open(path)
	if err != nil {
		return Writes{}, fmt.Errorf("open audit log: %w", err)
	}
	defer f.Close()
	var w Writes
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return Writes{}, fmt.Errorf("parse audit log: %w", err)
		}
		if ev.User.Username != user || ev.Received.Before(from) || !ev.Received.Before(to) || ev.ObjectRef == nil {
			continue
		}
		if ev.ResponseStatus != nil && ev.ResponseStatus.Code >= 400 {
			w.Failed++
		}
		if ev.ResponseStatus != nil && ev.ResponseStatus.Code == 409 {
			w.Conflicts++
		}
		switch ref := ev.ObjectRef; {
		case ref.Resource == "leases" || ref.Resource == "events" && ref.Namespace == leaseNamespace:
			w.LeaderElection++
		case ref.Resource == "services" && ref.Subresource == "status":
			w.ServiceStatus++
		case ref.Resource == "services":
			w.ServiceMetadata++
		case ref.Resource == "events":
			w.Events++
		case ref.Resource == "ipaddresspools" && ref.Subresource == "status":
			w.PoolStatus++
		case ref.Resource == "ipaddresspools":
			w.PoolMetadata++
		case ref.Resource == "serviceannouncements":
			w.Announcements++
		default:
			w.Other++
		}
	}
	return w, sc.Err()
}
