package reconcile

import (
	"slices"
	"strings"
	"sync"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/announcement"
)

// nodeIndex keeps the announcement index of the HeraldNodes last listed
// while they stay the same. A HeraldNode write wakes every Service with an
// IP, and each reconcile would otherwise index every node's lists anew.
type nodeIndex struct {
	mu  sync.Mutex
	key string
	idx *announcement.Index
}

// of returns the index of nodes, building it only when a HeraldNode was
// added, removed or written since the last call. The index is read-only,
// so concurrent reconciles share it.
func (c *nodeIndex) of(nodes []v1beta1.HeraldNode) *announcement.Index {
	versions := make([]string, len(nodes))
	for i := range nodes {
		versions[i] = nodes[i].Name + "@" + nodes[i].ResourceVersion
	}
	slices.Sort(versions) // the cache lists in no set order
	key := strings.Join(versions, " ")
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idx == nil || key != c.key {
		c.key, c.idx = key, announcement.NewIndex(nodes)
	}
	return c.idx
}
