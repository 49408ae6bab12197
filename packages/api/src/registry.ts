import { createRegistry, type Registry } from '@bufbuild/protobuf';
import {
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
} from '@bufbuild/protobuf/wkt';
import { allFiles } from './gen/files.js';

/**
 * A registry of every generated xDS message, enum and service plus the well-known types, for packing and
 * unpacking `google.protobuf.Any` and for proto3 JSON (`toJson(schema, msg, { registry: xdsRegistry })`).
 */
export const xdsRegistry: Registry = createRegistry(
  file_google_protobuf_any,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_wrappers,
  ...allFiles,
);
