package main

import (
	"encoding/binary"
	"fmt"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cache "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	// Register the Envoy v3 resource messages so that an Any can be decoded by
	// its type URL. Most are already linked through go-control-plane; naming
	// them here keeps decoding independent of its internals.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/service/runtime/v3"
)

// decodeRecords parses the POST /snapshot body: a sequence of records, each a
// 4-byte big-endian length followed by that many bytes of an encoded
// google.protobuf.Any. It returns the resources grouped by type URL and their
// count. Every type the snapshot cache knows is present in the result (empty
// when the body has none of it), so that one snapshot carries version V for
// every type.
func decodeRecords(body []byte) (map[string][]types.Resource, int, error) {
	byType := make(map[string][]types.Resource)
	count := 0
	for off := 0; off < len(body); {
		if len(body)-off < 4 {
			return nil, 0, fmt.Errorf("record %d: truncated length prefix at byte %d", count, off)
		}
		size := binary.BigEndian.Uint32(body[off:])
		off += 4
		if uint64(size) > uint64(len(body)-off) {
			return nil, 0, fmt.Errorf("record %d: length %d exceeds the %d bytes left", count, size, len(body)-off)
		}
		rec := body[off : off+int(size)]
		off += int(size)

		var a anypb.Any
		if err := proto.Unmarshal(rec, &a); err != nil {
			return nil, 0, fmt.Errorf("record %d: not a google.protobuf.Any: %w", count, err)
		}
		typeURL := a.GetTypeUrl()
		if cache.GetResponseType(typeURL) == types.UnknownType {
			return nil, 0, fmt.Errorf("record %d: unsupported type_url %q", count, typeURL)
		}
		msg, err := a.UnmarshalNew()
		if err != nil {
			return nil, 0, fmt.Errorf("record %d: decoding %s: %w", count, typeURL, err)
		}
		byType[typeURL] = append(byType[typeURL], msg)
		count++
	}
	for t := types.ResponseType(0); t < types.UnknownType; t++ {
		typeURL, err := cache.GetResponseTypeURL(t)
		if err != nil {
			continue
		}
		if _, ok := byType[typeURL]; !ok {
			byType[typeURL] = nil
		}
	}
	return byType, count, nil
}
