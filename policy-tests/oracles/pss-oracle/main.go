// pss-oracle evaluates pods with Kubernetes' own Pod Security library
// (k8s.io/pod-security-admission, the code the API server's PodSecurity
// admission runs), so belay's Rego can be checked against it verdict by
// verdict. It reads one Pod (JSON) per line on stdin and writes one line per
// pod: {"baseline": {...}, "restricted": {...}} with allowed, the forbidden
// reason and detail, and the ids of the checks that failed; or {"error": ...}
// for a line that is not a Pod.
//
//	pss-oracle -version   prints the library's version and its latest policy version
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

type verdict struct {
	Allowed bool     `json:"allowed"`
	Reason  string   `json:"reason,omitempty"`
	Detail  string   `json:"detail,omitempty"`
	Checks  []string `json:"checks,omitempty"`
}

type answer struct {
	Baseline   *verdict `json:"baseline,omitempty"`
	Restricted *verdict `json:"restricted,omitempty"`
	Error      string   `json:"error,omitempty"`
}

func libraryVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "k8s.io/pod-security-admission" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

// defaultVolumes does what the API server's defaulting does before any
// admission runs: a volume with no source becomes an emptyDir
// (SetDefaults_Volume). Admission never sees a source-less volume.
func defaultVolumes(pod *corev1.Pod) {
	for i := range pod.Spec.Volumes {
		if reflect.DeepEqual(pod.Spec.Volumes[i].VolumeSource, corev1.VolumeSource{}) {
			pod.Spec.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
}

func evaluate(evaluator policy.Evaluator, level api.Level, pod *corev1.Pod) *verdict {
	results := evaluator.EvaluatePod(api.LevelVersion{Level: level, Version: api.LatestVersion()}, &pod.ObjectMeta, &pod.Spec)
	agg := policy.AggregateCheckResults(results)
	v := &verdict{Allowed: agg.Allowed}
	if !agg.Allowed {
		v.Reason = agg.ForbiddenReason()
		v.Detail = agg.ForbiddenDetail()
		for _, r := range results {
			if !r.Allowed {
				v.Checks = append(v.Checks, r.ForbiddenReason)
			}
		}
	}
	return v
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-version" {
		fmt.Printf("k8s.io/pod-security-admission %s (policy version: latest)\n", libraryVersion())
		return
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pss-oracle:", err)
		os.Exit(1)
	}
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		var pod corev1.Pod
		var a answer
		if err := json.Unmarshal(line, &pod); err != nil {
			a.Error = err.Error()
		} else {
			defaultVolumes(&pod)
			a.Baseline = evaluate(evaluator, api.LevelBaseline, &pod)
			a.Restricted = evaluate(evaluator, api.LevelRestricted, &pod)
		}
		if err := enc.Encode(a); err != nil {
			fmt.Fprintln(os.Stderr, "pss-oracle:", err)
			os.Exit(1)
		}
		// A reader that waits for each answer before sending the next pod sees it at once.
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "pss-oracle:", err)
		os.Exit(1)
	}
}
