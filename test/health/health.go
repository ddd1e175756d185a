// Copyright 2026 The StoreOps Authors.
// SPDX-License-Identifier: Apache-2.0

// Package health reads an object's health as the GitOps tools do: Flux through kstatus's
// status.Compute, Argo CD through the Lua health check of config/argocd/health.lua, run by
// gopher-lua (the interpreter Argo CD embeds). Tests compare both on every phase of every kind.
package health

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// Kstatus is kstatus's status of obj (Current, InProgress, Failed, ...), what Flux waits on.
func Kstatus(obj k8sruntime.Object) (string, error) {
	u, err := toUnstructured(obj)
	if err != nil {
		return "", err
	}
	res, err := status.Compute(u)
	if err != nil {
		return "", err
	}
	return res.Status.String(), nil
}

// ScriptPath is the Argo CD health check in the repository.
func ScriptPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "config", "argocd", "health.lua")
}

// ArgoCD runs the health check as Argo CD does: obj as the Lua table obj, the script's returned
// table's status (Healthy, Progressing, Degraded, ...).
func ArgoCD(obj k8sruntime.Object) (string, error) {
	script, err := os.ReadFile(ScriptPath())
	if err != nil {
		return "", err
	}
	u, err := toUnstructured(obj)
	if err != nil {
		return "", err
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer L.Close()
	L.SetGlobal("obj", toLua(L, u.Object))
	if err := L.DoString(string(script)); err != nil {
		return "", fmt.Errorf("health.lua: %w", err)
	}
	hs, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		return "", fmt.Errorf("health.lua returned %s, not a table", L.Get(-1).Type())
	}
	return hs.RawGetString("status").String(), nil
}

func toUnstructured(obj k8sruntime.Object) (*unstructured.Unstructured, error) {
	content, err := k8sruntime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: content}, nil
}

// toLua converts JSON-shaped Go values as Argo CD does: objects to tables, arrays to 1-based
// tables, numbers to numbers.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(v)
	case string:
		return lua.LString(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case map[string]any:
		t := L.NewTable()
		for k, item := range v {
			t.RawSetString(k, toLua(L, item))
		}
		return t
	case []any:
		t := L.NewTable()
		for _, item := range v {
			t.Append(toLua(L, item))
		}
		return t
	}
	return lua.LString(fmt.Sprint(v))
}
