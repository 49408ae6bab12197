#!/usr/bin/env python3
"""A real gRPC C-core xDS client for the interop tests: one unary call on an `xds:///` target with Python's grpcio
(Debian's python3-grpcio). C-core's xds resolver reads its bootstrap from GRPC_XDS_BOOTSTRAP_CONFIG, fetches
Listener, RouteConfiguration, Cluster and ClusterLoadAssignment from the control plane and routes the call with
them. Prints one JSON line: the response (the backend's name) or the call's status.

Usage: xds_call.py --target xds:///NAME:PORT --method /pkg.Service/Method [--timeout SECONDS] [--wait-for-ready]
"""
import argparse
import json
import sys

import grpc


def main():
    parser = argparse.ArgumentParser(description='One unary call through the xds resolver of gRPC C-core.')
    parser.add_argument('--target', required=True)
    parser.add_argument('--method', required=True)
    parser.add_argument('--timeout', type=float, default=20.0)
    parser.add_argument('--wait-for-ready', action='store_true')
    args = parser.parse_args()
    result = {'grpcVersion': grpc.__version__}
    # The channel to the backend is plaintext; the xDS channel's credentials come from the bootstrap.
    with grpc.insecure_channel(args.target) as channel:
        try:
            value = channel.unary_unary(args.method)(b'', timeout=args.timeout, wait_for_ready=args.wait_for_ready)
            result.update({'ok': True, 'code': 'OK', 'value': value.decode('utf-8')})
        except grpc.RpcError as error:
            result.update({'ok': False, 'code': error.code().name, 'details': error.details()})
    print(json.dumps(result))


if __name__ == '__main__':
    sys.exit(main())
