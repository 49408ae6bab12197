package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/protobuf/proto"
)

// counters tallies xDS traffic seen through go-control-plane's server callbacks.
// Every field is updated atomically from the stream goroutines.
type counters struct {
	requests      atomic.Int64
	acks          atomic.Int64
	nacks         atomic.Int64
	responsesSent atomic.Int64
	bytesSent     atomic.Int64
}

// onRequest counts one request; a request carrying a response nonce answers an
// earlier response and is a NACK when it carries error_detail, an ACK otherwise.
func (c *counters) onRequest(responseNonce string, hasError bool) {
	c.requests.Add(1)
	if responseNonce == "" {
		return
	}
	if hasError {
		c.nacks.Add(1)
	} else {
		c.acks.Add(1)
	}
}

// onResponse counts one response of the given encoded size.
func (c *counters) onResponse(size int) {
	c.responsesSent.Add(1)
	c.bytesSent.Add(int64(size))
}

// callbacks returns the server callbacks that feed the counters.
func (c *counters) callbacks() serverv3.CallbackFuncs {
	return serverv3.CallbackFuncs{
		StreamRequestFunc: func(_ int64, req *discovery.DiscoveryRequest) error {
			c.onRequest(req.GetResponseNonce(), req.GetErrorDetail() != nil)
			return nil
		},
		StreamResponseFunc: func(_ context.Context, _ int64, _ *discovery.DiscoveryRequest, resp *discovery.DiscoveryResponse) {
			c.onResponse(proto.Size(resp))
		},
		StreamDeltaRequestFunc: func(_ int64, req *discovery.DeltaDiscoveryRequest) error {
			c.onRequest(req.GetResponseNonce(), req.GetErrorDetail() != nil)
			return nil
		},
		StreamDeltaResponseFunc: func(_ int64, _ *discovery.DeltaDiscoveryRequest, resp *discovery.DeltaDiscoveryResponse) {
			c.onResponse(proto.Size(resp))
		},
		FetchRequestFunc: func(_ context.Context, _ *discovery.DiscoveryRequest) error {
			c.onRequest("", false)
			return nil
		},
		FetchResponseFunc: func(_ *discovery.DiscoveryRequest, resp *discovery.DiscoveryResponse) {
			c.onResponse(proto.Size(resp))
		},
	}
}

// stats is the JSON body of GET /stats. Field order and names are the contract
// shared with the TypeScript bench harness.
type stats struct {
	HeapAlloc     uint64  `json:"heapAlloc"`
	HeapInuse     uint64  `json:"heapInuse"`
	Sys           uint64  `json:"sys"`
	NumGoroutine  int     `json:"numGoroutine"`
	RSSBytes      int64   `json:"rssBytes"`
	CPUUserMs     float64 `json:"cpuUserMs"`
	CPUSysMs      float64 `json:"cpuSysMs"`
	ResponsesSent int64   `json:"responsesSent"`
	Requests      int64   `json:"requests"`
	Acks          int64   `json:"acks"`
	Nacks         int64   `json:"nacks"`
	BytesSent     int64   `json:"bytesSent"`
}

// collectStats samples the Go runtime, the process and the counters.
func collectStats(c *counters) stats {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s := stats{
		HeapAlloc:     ms.HeapAlloc,
		HeapInuse:     ms.HeapInuse,
		Sys:           ms.Sys,
		NumGoroutine:  runtime.NumGoroutine(),
		RSSBytes:      readRSSBytes(),
		ResponsesSent: c.responsesSent.Load(),
		Requests:      c.requests.Load(),
		Acks:          c.acks.Load(),
		Nacks:         c.nacks.Load(),
		BytesSent:     c.bytesSent.Load(),
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		s.CPUUserMs = float64(ru.Utime.Nano()) / 1e6
		s.CPUSysMs = float64(ru.Stime.Nano()) / 1e6
	}
	return s
}

// readRSSBytes returns VmRSS from /proc/self/status in bytes, or 0 when it
// cannot be read (not Linux).
func readRSSBytes() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest) // e.g. ["12345", "kB"]
		if len(fields) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}
