// Command go-peer runs go-control-plane's SnapshotCache and xDS server behind
// the same HTTP control API as our own bench server, so that one benchmark
// driver can measure both. See README.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run())
}

func run() int {
	var opts options
	flag.StringVar(&opts.xdsAddr, "xds", "127.0.0.1:0", "gRPC xDS listen address (loopback only)")
	flag.StringVar(&opts.controlAddr, "control", "127.0.0.1:0", "HTTP control API listen address (loopback only)")
	flag.BoolVar(&opts.ads, "ads", true, "run the snapshot cache in ADS mode (use --ads=false to turn off)")
	exitOnStdin := flag.Bool("exit-on-stdin-close", true, "exit when stdin reaches EOF (dies with its parent)")
	flag.Parse()

	p, err := startPeer(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-peer:", err)
		return 1
	}
	defer p.close()

	ready, err := json.Marshal(struct {
		XDS     string `json:"xds"`
		Control string `json:"control"`
		PID     int    `json:"pid"`
	}{p.xdsAddr(), p.controlAddr(), os.Getpid()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-peer:", err)
		return 1
	}
	if _, err := os.Stdout.Write(append(ready, '\n')); err != nil {
		return 1
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if *exitOnStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}
	<-ctx.Done()
	return 0
}
