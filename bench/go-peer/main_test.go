package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// record frames one resource as the control API expects: length + Any bytes.
func record(t *testing.T, msg proto.Message) []byte {
	t.Helper()
	a, err := anypb.New(msg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...)
}

func postJSON(ctx context.Context, t *testing.T, url string, body []byte, out any) int {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

func TestSnapshotServedOverADS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	p, err := startPeer(options{xdsAddr: "127.0.0.1:0", controlAddr: "127.0.0.1:0", ads: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	control := "http://" + p.controlAddr()

	// A malformed body is refused.
	var bad struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if code := postJSON(ctx, t, control+"/snapshot?node=n1&version=v0", []byte{0, 0, 0, 9, 1}, &bad); code != 400 || bad.OK {
		t.Fatalf("truncated body: status %d, %+v", code, bad)
	}

	cluster := &clusterv3.Cluster{
		Name:                 "c1",
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
	}
	var set struct {
		OK        bool    `json:"ok"`
		Resources int     `json:"resources"`
		Ms        float64 `json:"ms"`
	}
	if code := postJSON(ctx, t, control+"/snapshot?node=n1&version=v1", record(t, cluster), &set); code != 200 || !set.OK || set.Resources != 1 {
		t.Fatalf("POST /snapshot: status %d, %+v", code, set)
	}

	conn, err := grpc.NewClient(p.xdsAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stream, err := discovery.NewAggregatedDiscoveryServiceClient(conn).StreamAggregatedResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	node := &core.Node{Id: "n1"}
	if err := stream.Send(&discovery.DiscoveryRequest{Node: node, TypeUrl: resource.ClusterType, ResourceNames: []string{"c1"}}); err != nil {
		t.Fatal(err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetVersionInfo() != "v1" || len(resp.GetResources()) != 1 {
		t.Fatalf("response: version %q, %d resources", resp.GetVersionInfo(), len(resp.GetResources()))
	}
	var got clusterv3.Cluster
	if err := resp.GetResources()[0].UnmarshalTo(&got); err != nil {
		t.Fatal(err)
	}
	if got.GetName() != "c1" {
		t.Fatalf("cluster name %q", got.GetName())
	}

	// ACK it; the counters see the request, the ACK and the response.
	ack := &discovery.DiscoveryRequest{
		Node: node, TypeUrl: resource.ClusterType, ResourceNames: []string{"c1"},
		VersionInfo: resp.GetVersionInfo(), ResponseNonce: resp.GetNonce(),
	}
	if err := stream.Send(ack); err != nil {
		t.Fatal(err)
	}
	for {
		var s stats
		if code := postJSON(ctx, t, control+"/gc", nil, &s); code != 200 {
			t.Fatalf("POST /gc: status %d", code)
		}
		if s.Acks == 1 {
			if s.Requests != 2 || s.Nacks != 0 || s.ResponsesSent != 1 || s.BytesSent <= 0 || s.RSSBytes <= 0 {
				t.Fatalf("stats: %+v", s)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("ACK never counted: %+v", s)
		case <-time.After(10 * time.Millisecond):
		}
	}
}
