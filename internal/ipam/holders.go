package ipam

import "slices"

// holders is the sorted set of Service keys holding one IP. Almost every IP
// has one holder, so that one is kept inline and a slice exists only while
// the IP is shared: a lookup then touches the map slot and nothing else,
// which keeps Release as cheap with 100k IPs in use as with 1k.
type holders struct {
	one  string   // the sole holder, when many is nil
	many []string // two or more holders, sorted
}

func (h holders) len() int {
	switch {
	case h.many != nil:
		return len(h.many)
	case h.one != "":
		return 1
	}
	return 0
}

// list returns the holders, sorted, in a slice the caller may keep.
func (h holders) list() []string {
	if h.many != nil {
		return slices.Clone(h.many)
	}
	if h.one != "" {
		return []string{h.one}
	}
	return nil
}

// each calls fn for every holder, in order, until fn returns false.
func (h holders) each(fn func(key string) bool) {
	if h.many == nil {
		if h.one != "" {
			fn(h.one)
		}
		return
	}
	for _, k := range h.many {
		if !fn(k) {
			return
		}
	}
}

func (h holders) add(key string) holders {
	switch {
	case h.many != nil:
		if i, ok := slices.BinarySearch(h.many, key); !ok {
			h.many = slices.Insert(h.many, i, key)
		}
	case h.one == "" || h.one == key:
		h.one = key
	default:
		h.many = []string{min(h.one, key), max(h.one, key)}
		h.one = ""
	}
	return h
}

func (h holders) remove(key string) holders {
	if h.many == nil {
		if h.one == key {
			h.one = ""
		}
		return h
	}
	if i, ok := slices.BinarySearch(h.many, key); ok {
		h.many = slices.Delete(h.many, i, i+1)
	}
	if len(h.many) == 1 {
		return holders{one: h.many[0]}
	}
	return h
}
