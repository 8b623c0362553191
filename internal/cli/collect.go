package cli

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/spf13/cobra"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/heraldlb/herald/api/v1beta1"
	"github.com/heraldlb/herald/internal/kube"
)

func collectCommand(flags *genericclioptions.ConfigFlags) *cobra.Command {
	var file string
	var tail int64
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Write a support bundle: configuration, status, Events, logs and the status summary, Secrets redacted",
		Long: `Writes a tar.gz with Herald's configuration objects, the speakers' HeraldNodes
and Leases, the LoadBalancer Services and their EndpointSlices, the Nodes, the
Events of ` + kube.Namespace + ` and of the Services, the last lines of every
Herald pod's log (controller and speakers), a snapshot of each one's metrics
(read through the apiserver's pod proxy; a pod it cannot reach gets a line
saying why), and heraldctl status. Secrets of
` + kube.Namespace + ` are listed by name and key only: no value is written.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				file = "herald-support-" + time.Now().UTC().Format("20060102T150405Z") + ".tar.gz"
			}
			f, err := os.Create(file)
			if err != nil {
				return err
			}
			if err := RunCollect(cmd.Context(), flags, tail, f); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), "wrote", file)
			return err
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "the bundle to write (default herald-support-<time>.tar.gz)")
	cmd.Flags().Int64Var(&tail, "log-lines", 2000, "the last lines of each pod's log to include")
	return cmd
}

// bundle writes files into a tar.gz.
type bundle struct {
	tw  *tar.Writer
	now time.Time
}

func (b *bundle) add(name string, data []byte) error {
	if err := b.tw.WriteHeader(&tar.Header{Name: path.Join("herald-support", name), Mode: 0o644, Size: int64(len(data)), ModTime: b.now}); err != nil {
		return err
	}
	_, err := b.tw.Write(data)
	return err
}

func (b *bundle) addYAML(name string, obj any) error {
	data, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return b.add(name, data)
}

// RunCollect writes the support bundle to w. What cannot be read (a kind
// the user may not list, a log) is noted in errors.txt in the bundle, not
// fatal.
func RunCollect(ctx context.Context, flags *genericclioptions.ConfigFlags, tail int64, w io.Writer) error {
	cfg, c, err := connect(flags)
	if err != nil {
		return err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	gz := gzip.NewWriter(w)
	b := &bundle{tw: tar.NewWriter(gz), now: time.Now()}
	var problems []string
	note := func(what string, err error) {
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", what, err))
		}
	}
	note("objects", collectObjects(ctx, c, b, note))
	note("secrets", collectSecrets(ctx, c, b))
	pods, err := cs.CoreV1().Pods(kube.Namespace).List(ctx, metav1.ListOptions{})
	note("pods", err)
	if err == nil {
		collectLogs(ctx, cs, b, pods.Items, tail, note)
		collectMetrics(ctx, cs, b, pods.Items, note)
	}
	var st strings.Builder
	note("status", RunStatus(ctx, flags, "table", &st))
	note("status.txt", b.add("status.txt", []byte(st.String())))
	note("errors.txt", b.add("errors.txt", []byte(strings.Join(problems, "\n")+"\n")))
	if err := b.tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// collectObjects writes every listed kind as one YAML file.
func collectObjects(ctx context.Context, c client.Client, b *bundle, note func(string, error)) error {
	ns := client.InNamespace(kube.Namespace)
	for _, k := range []struct {
		file string
		list client.ObjectList
		opts []client.ListOption
	}{
		{"config/ipaddresspools.yaml", &v1beta1.IPAddressPoolList{}, nil},
		{"config/l2advertisements.yaml", &v1beta1.L2AdvertisementList{}, nil},
		{"config/bgpadvertisements.yaml", &v1beta1.BGPAdvertisementList{}, nil},
		{"config/bgppeers.yaml", &v1beta1.BGPPeerList{}, nil},
		{"config/communities.yaml", &v1beta1.CommunityList{}, nil},
		{"status/heraldnodes.yaml", &v1beta1.HeraldNodeList{}, nil},
		{"status/leases.yaml", &coordinationv1.LeaseList{}, []client.ListOption{ns}},
		{"status/pods.yaml", &corev1.PodList{}, []client.ListOption{ns}},
		{"events/herald-system.yaml", &corev1.EventList{}, []client.ListOption{ns}},
		{"cluster/nodes.yaml", &corev1.NodeList{}, nil},
	} {
		if err := c.List(ctx, k.list, k.opts...); err != nil {
			note(k.file, err)
			continue
		}
		note(k.file, b.addYAML(k.file, k.list))
	}
	var svcs corev1.ServiceList
	if err := c.List(ctx, &svcs); err != nil {
		return err
	}
	var lbs []corev1.Service
	namespaces := map[string]bool{}
	for _, s := range svcs.Items {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			lbs = append(lbs, s)
			namespaces[s.Namespace] = true
		}
	}
	note("services.yaml", b.addYAML("services/services.yaml", lbs))
	for n := range namespaces {
		var ev corev1.EventList
		if err := c.List(ctx, &ev, client.InNamespace(n), client.MatchingFields{"involvedObject.kind": "Service"}); err != nil {
			note("events of "+n, err)
			continue
		}
		note("events of "+n, b.addYAML("events/"+n+".yaml", ev))
	}
	return nil
}

// collectSecrets lists the Secrets of Herald's namespace by name, type and
// key: never a value.
func collectSecrets(ctx context.Context, c client.Client, b *bundle) error {
	var list corev1.SecretList
	if err := c.List(ctx, &list, client.InNamespace(kube.Namespace)); err != nil {
		return err
	}
	type redacted struct {
		Name string   `json:"name"`
		Type string   `json:"type"`
		Keys []string `json:"keys"`
	}
	var out []redacted
	for _, s := range list.Items {
		r := redacted{Name: s.Name, Type: string(s.Type)}
		for k := range s.Data {
			r.Keys = append(r.Keys, k)
		}
		out = append(out, r)
	}
	return b.addYAML("config/secrets-redacted.yaml", out)
}

// collectLogs writes the last lines of each container's log of pods.
func collectLogs(ctx context.Context, cs kubernetes.Interface, b *bundle, pods []corev1.Pod, tail int64, note func(string, error)) {
	for _, p := range pods {
		for _, ctr := range p.Spec.Containers {
			name := "logs/" + p.Name + "_" + ctr.Name + ".log"
			data, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: ctr.Name, TailLines: ptr.To(tail)}).DoRaw(ctx)
			if err != nil {
				note(name, err)
				continue
			}
			note(name, b.add(name, data))
		}
	}
}
