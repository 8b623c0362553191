package main

import (
	"fmt"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// daemonSetEnv is the environment the DaemonSet in file gives its speaker
// container, so that the lab's speakers, which run without a container,
// collect garbage as the DaemonSet's would: each literal variable (GOGC),
// and each resourceFieldRef to limits.memory (HERALD_MEMORY_LIMIT) as the
// container's limit in bytes, which the kubelet would fill in.
func daemonSetEnv(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read the speaker's DaemonSet: %w", err)
	}
	var ds appsv1.DaemonSet
	if err := yaml.UnmarshalStrict(b, &ds); err != nil {
		return nil, fmt.Errorf("decode %s: %w", file, err)
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name == "speaker" {
			return containerEnv(c)
		}
	}
	return nil, fmt.Errorf("%s has no container named speaker", file)
}

func containerEnv(c corev1.Container) ([]string, error) {
	var out []string
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			out = append(out, e.Name+"="+e.Value)
		case e.ValueFrom.ResourceFieldRef != nil && e.ValueFrom.ResourceFieldRef.Resource == "limits.memory":
			limit, ok := c.Resources.Limits[corev1.ResourceMemory]
			if !ok {
				return nil, fmt.Errorf("$%s refers to the speaker's memory limit, which is not set", e.Name)
			}
			out = append(out, fmt.Sprintf("%s=%d", e.Name, limit.Value()))
		}
	}
	return out, nil
}
