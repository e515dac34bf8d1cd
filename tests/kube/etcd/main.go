// etcd for the Kubernetes API server the tests run (tests/kube): the server's own entry point, pinned by go.sum.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
