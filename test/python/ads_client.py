#!/usr/bin/env python3
"""A real gRPC C-core xDS client for the interop tests: opens one ADS stream with Python's grpcio (Debian's
python3-grpcio), over TLS with a client certificate (mutual TLS), asks for the resources named on the command
line, ACKs each response and prints one JSON line: what it received, or the status the stream ended with.

It exists because gRPC C-core's own xDS client (the xds: resolver of grpcio 1.51) can only use `insecure` or
`google_default` channel credentials for its control-plane channel, so mutual TLS and node identity (rule L6) are
proved with C-core's transport and TLS stack driven by this small ADS client. The protobuf messages are written and
read by hand (field numbers from envoy/service/discovery/v3/discovery.proto and envoy/config/core/v3/base.proto).

Usage: ads_client.py --address HOST:PORT --ca CA.pem [--cert CERT.pem --key KEY.pem] --node NODE_ID
                     --ask TYPE_URL=NAME[,NAME...] [--ask ...] [--timeout SECONDS]
"""
import argparse
import json
import queue
import sys

import grpc

ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources'


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2): strings, bytes and messages."""
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def discovery_request(type_url, names, node=None, version='', nonce=''):
    """envoy.service.discovery.v3.DiscoveryRequest: version_info 1, node 2, resource_names 3, type_url 4,
    response_nonce 5."""
    out = b''
    if version:
        out += field(1, version)
    if node is not None:
        out += field(2, node)
    for name in names:
        out += field(3, name)
    out += field(4, type_url)
    if nonce:
        out += field(5, nonce)
    return out


def node_message(node_id):
    """envoy.config.core.v3.Node: id 1, user_agent_name 6, user_agent_version 7."""
    return field(1, node_id) + field(6, 'grpc-python-ads-client') + field(7, grpc.__version__)


def fields(data):
    """Yields (number, wire type, value) of a protobuf message; values of wire type 2 as bytes."""
    at = 0
    while at < len(data):
        key, at = read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = read_varint(data, at)
        elif wire == 2:
            size, at = read_varint(data, at)
            value, at = data[at:at + size], at + size
        elif wire == 1:
            value, at = data[at:at + 8], at + 8
        elif wire == 5:
            value, at = data[at:at + 4], at + 4
        else:
            raise ValueError('unsupported wire type %d' % wire)
        yield number, wire, value


def read_varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def first_string(message, number):
    for n, wire, value in fields(message):
        if n == number and wire == 2:
            return value.decode('utf-8')
    return ''


def discovery_response(data):
    """envoy.service.discovery.v3.DiscoveryResponse: version_info 1, resources 2 (Any: type_url 1, value 2),
    type_url 4, nonce 5. Listener, Cluster, RouteConfiguration and ClusterLoadAssignment keep their name in field 1."""
    resources = []
    for n, wire, value in fields(data):
        if n == 2 and wire == 2:
            resources.append({'typeUrl': first_string(value, 1), 'name': first_string(first_bytes(value, 2), 1)})
    return {
        'versionInfo': first_string(data, 1),
        'typeUrl': first_string(data, 4),
        'nonce': first_string(data, 5),
        'resources': resources,
    }


def first_bytes(message, number):
    for n, wire, value in fields(message):
        if n == number and wire == 2:
            return value
    return b''


def main():
    parser = argparse.ArgumentParser(description='One ADS stream over (mutual) TLS with gRPC C-core.')
    parser.add_argument('--address', required=True)
    parser.add_argument('--ca', required=True)
    parser.add_argument('--cert')
    parser.add_argument('--key')
    parser.add_argument('--node', required=True)
    parser.add_argument('--ask', action='append', required=True)
    parser.add_argument('--timeout', type=float, default=10.0)
    args = parser.parse_args()

    asks = []
    for ask in args.ask:
        type_url, _, names = ask.partition('=')
        asks.append((type_url, [name for name in names.split(',') if name]))

    def read(path):
        with open(path, 'rb') as file:
            return file.read()

    creds = grpc.ssl_channel_credentials(
        root_certificates=read(args.ca),
        private_key=read(args.key) if args.key else None,
        certificate_chain=read(args.cert) if args.cert else None,
    )
    outbox = queue.Queue()
    node = node_message(args.node)
    for index, (type_url, names) in enumerate(asks):
        outbox.put(discovery_request(type_url, names, node=node if index == 0 else None))

    def requests():
        while True:
            item = outbox.get()
            if item is None:
                return
            yield item

    received = {}
    result = {'grpcVersion': grpc.__version__}
    with grpc.secure_channel(args.address, creds) as channel:
        stream = channel.stream_stream(ADS)(requests(), timeout=args.timeout)
        try:
            for data in stream:
                response = discovery_response(data)
                received[response['typeUrl']] = response
                names = dict(asks).get(response['typeUrl'], [])
                outbox.put(discovery_request(response['typeUrl'], names, version=response['versionInfo'],
                                             nonce=response['nonce']))
                if all(type_url in received for type_url, _ in asks):
                    outbox.put(None)  # half-close: the server ends the stream with OK
            result.update({'ok': True, 'code': 'OK', 'responses': list(received.values())})
        except grpc.RpcError as error:
            result.update({'ok': False, 'code': error.code().name, 'details': error.details(),
                           'responses': list(received.values())})
        finally:
            outbox.put(None)
    print(json.dumps(result))


if __name__ == '__main__':
    sys.exit(main())
