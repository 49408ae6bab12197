package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	extensionservice "github.com/envoyproxy/go-control-plane/envoy/service/extension/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	runtimeservice "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
	secretservice "github.com/envoyproxy/go-control-plane/envoy/service/secret/v3"
	cache "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// options configures a peer.
type options struct {
	xdsAddr     string // gRPC xDS listen address, loopback only
	controlAddr string // HTTP control API listen address, loopback only
	ads         bool   // run the snapshot cache in ADS mode
}

// peer is go-control-plane's SnapshotCache and xDS server, plus the HTTP
// control API the bench driver uses to set snapshots and read stats.
type peer struct {
	cache      cache.SnapshotCache
	counters   *counters
	grpcServer *grpc.Server
	httpServer *http.Server
	xdsLis     net.Listener
	controlLis net.Listener
	cancel     context.CancelFunc
}

// startPeer listens on both addresses and serves them in the background.
func startPeer(opts options) (*peer, error) {
	xdsLis, err := listenLoopback(opts.xdsAddr)
	if err != nil {
		return nil, fmt.Errorf("--xds: %w", err)
	}
	controlLis, err := listenLoopback(opts.controlAddr)
	if err != nil {
		_ = xdsLis.Close()
		return nil, fmt.Errorf("--control: %w", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	p := &peer{
		cache:      cache.NewSnapshotCache(opts.ads, cache.IDHash{}, nil),
		counters:   &counters{},
		xdsLis:     xdsLis,
		controlLis: controlLis,
		cancel:     cancel,
	}
	xds := serverv3.NewServer(ctx, p.cache, p.counters.callbacks())
	p.grpcServer = grpc.NewServer(grpcServerOptions()...)
	registerXDS(p.grpcServer, xds)
	p.httpServer = &http.Server{Handler: p.routes(), ReadHeaderTimeout: 10 * time.Second}

	go func() {
		if err := p.grpcServer.Serve(xdsLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			fmt.Fprintln(os.Stderr, "go-peer: xds server:", err)
		}
	}()
	go func() {
		if err := p.httpServer.Serve(controlLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "go-peer: control server:", err)
		}
	}()
	return p, nil
}

// xdsAddr is the bound gRPC address (host:port).
func (p *peer) xdsAddr() string { return p.xdsLis.Addr().String() }

// controlAddr is the bound HTTP control address (host:port).
func (p *peer) controlAddr() string { return p.controlLis.Addr().String() }

// close stops both servers. xDS streams never end on their own, so the gRPC
// server is stopped hard rather than drained.
func (p *peer) close() {
	p.grpcServer.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.httpServer.Shutdown(ctx)
	p.cancel()
}

// listenLoopback opens a TCP listener, refusing any non-loopback host.
func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("%q: only loopback IP addresses (127.0.0.1) are allowed", addr)
	}
	return net.Listen("tcp", addr)
}

// grpcServerOptions mirrors a production xDS server: a permissive keepalive
// enforcement policy, server-side keepalive pings, no practical stream limit.
func grpcServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.MaxConcurrentStreams(1_000_000),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
			MinTime:             5 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.KeepaliveParams(keepalive.ServerParameters{
			Time:    30 * time.Second,
			Timeout: 5 * time.Second,
		}),
	}
}

// registerXDS registers ADS (SotW + delta) and every per-type discovery service.
func registerXDS(gs *grpc.Server, xds serverv3.Server) {
	discovery.RegisterAggregatedDiscoveryServiceServer(gs, xds)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, xds)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, xds)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, xds)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, xds)
	routeservice.RegisterScopedRoutesDiscoveryServiceServer(gs, xds)
	routeservice.RegisterVirtualHostDiscoveryServiceServer(gs, xds)
	secretservice.RegisterSecretDiscoveryServiceServer(gs, xds)
	runtimeservice.RegisterRuntimeDiscoveryServiceServer(gs, xds)
	extensionservice.RegisterExtensionConfigDiscoveryServiceServer(gs, xds)
}

// routes is the HTTP control API.
func (p *peer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /snapshot", p.handleSnapshot)
	mux.HandleFunc("GET /stats", p.handleStats)
	mux.HandleFunc("POST /gc", p.handleGC)
	return mux
}

// handleSnapshot decodes the record body into a Snapshot at ?version= and sets
// it for ?node=. "ms" covers decoding plus SetSnapshot, not reading the body.
func (p *peer) handleSnapshot(w http.ResponseWriter, r *http.Request) {
	node := r.URL.Query().Get("node")
	version := r.URL.Query().Get("version")
	if node == "" || version == "" {
		writeError(w, http.StatusBadRequest, "query parameters node and version are required")
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}

	start := time.Now()
	resources, count, err := decodeRecords(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	snap, err := cache.NewSnapshot(version, resources)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// Not the request context: a driver that hangs up must not cut watch
	// responses short half way through.
	if err := p.cache.SetSnapshot(context.Background(), node, snap); err != nil {
		writeError(w, http.StatusBadRequest, "SetSnapshot: "+err.Error())
		return
	}
	ms := float64(time.Since(start).Nanoseconds()) / 1e6

	writeJSON(w, http.StatusOK, struct {
		OK        bool    `json:"ok"`
		Resources int     `json:"resources"`
		Ms        float64 `json:"ms"`
	}{true, count, ms})
}

func (p *peer) handleStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, collectStats(p.counters))
}

func (p *peer) handleGC(w http.ResponseWriter, _ *http.Request) {
	runtime.GC()
	debug.FreeOSMemory()
	writeJSON(w, http.StatusOK, collectStats(p.counters))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}{false, msg})
}
