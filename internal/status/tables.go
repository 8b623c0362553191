package status

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
)

func table(out io.Writer, header string, rows func(w io.Writer)) error {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, header)
	rows(w)
	return w.Flush()
}

// list joins items with commas, and shows none as want says.
func list(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ",")
}

// WritePools prints pools as a table.
func WritePools(out io.Writer, pools []PoolRow) error {
	return table(out, "POOL\tADDRESSES\tIN USE\tAVAILABLE\tAUTO ASSIGN\tCONDITION\tADVERTISEMENTS", func(w io.Writer) {
		for _, p := range pools {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%v\t%s\t%s\n", p.Name, list(p.Addresses, "-"), orDash(p.InUse), orDash(p.Available),
				p.AutoAssign, p.Condition, list(p.Advertisements, None))
		}
	})
}

// WriteServices prints services as a table: PENDING for one without an IP,
// NONE in both announcer columns for an IP nobody announces.
func WriteServices(out io.Writer, svcs []ServiceRow) error {
	return table(out, "SERVICE\tIPS\tPOOL\tLAYER2\tBGP", func(w io.Writer) {
		for _, s := range svcs {
			l2, bgp := list(s.Layer2, "-"), list(s.BGP, "-")
			if s.Unannounced() {
				l2, bgp = None, None
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", s.Service, list(s.IPs, Pending), orDash(s.Pool), l2, bgp)
		}
	})
}

// WritePeers prints sessions as a table, with how long each has been in
// its state at now.
func WritePeers(out io.Writer, peers []PeerRow, now time.Time) error {
	return table(out, "NODE\tPEER\tADDRESS\tSTATE\tSINCE\tSENT\tWITHHELD\tLAST ERROR", func(w io.Writer) {
		for _, p := range peers {
			since := "-"
			if p.Since != nil {
				since = duration.HumanDuration(now.Sub(*p.Since))
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", p.Node, p.Peer, orDash(p.Address), p.State, since, p.Sent, p.Withheld, orDash(p.Error))
		}
	})
}

// WriteRoutes prints, per peer, the prefixes node sends, and says when the
// HeraldNode's list is cut short.
func WriteRoutes(out io.Writer, node string, peers []PeerRoutes) error {
	if len(peers) == 0 {
		_, err := fmt.Fprintf(out, "%s has no BGP sessions\n", node)
		return err
	}
	return table(out, "PEER\tSTATE\tPREFIX", func(w io.Writer) {
		for _, p := range peers {
			if len(p.Prefixes) == 0 {
				fmt.Fprintf(w, "%s\t%s\t%s\n", p.Peer, p.State, None)
			}
			for _, x := range p.Prefixes {
				fmt.Fprintf(w, "%s\t%s\t%s\n", p.Peer, p.State, x)
			}
			if p.Truncated {
				fmt.Fprintf(w, "%s\t%s\t… %d more: the HeraldNode lists the first %d of %d\n", p.Peer, p.State, int(p.Sent)-len(p.Prefixes), len(p.Prefixes), p.Sent)
			}
		}
	})
}

// WriteEvents prints events as a table, with their age at now.
func WriteEvents(out io.Writer, events []EventRow, now time.Time) error {
	return table(out, "LAST SEEN\tNAMESPACE\tOBJECT\tTYPE\tREASON\tSOURCE\tMESSAGE", func(w io.Writer) {
		for _, e := range events {
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", duration.HumanDuration(now.Sub(e.Time)), orDash(e.Namespace), e.Object, e.Type, e.Reason, orDash(e.Source), e.Message)
		}
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
