// A set of resource types a snapshot, a cache or a server knows (rules S9, S11, S15): the built-in ones plus any
// the user registers. It is an immutable value, not process state: `ResourceTypes.builtIn.with(quota)` makes a new
// set, so two tests (or two servers in one process) never see each other's registrations.
import { createRegistry, type Message, type Registry } from '@bufbuild/protobuf';
import { xdsRegistry } from './registry.js';
import {
  defineResourceType,
  type ResourceType,
  type ResourceTypeDefinition,
  resourceTypes,
} from './resource-type.js';
import { Code, XdsError } from './xds-error.js';

/**
 * An immutable set of resource types, iterated in ADS push order (rule S11). {@link ResourceTypes.builtIn} holds
 * the built-in types; {@link ResourceTypes.with} returns a new set with more.
 *
 * ```ts
 * const types = ResourceTypes.builtIn.with({ typeUrl: 'type.googleapis.com/acme.v1.Quota', schema: QuotaSchema });
 * const snapshot = Snapshot.create([quota], { types });
 * ```
 */
export class ResourceTypes implements Iterable<ResourceType> {
  /** The built-in types ({@link TypeUrl}). */
  static readonly builtIn: ResourceTypes = new ResourceTypes(resourceTypes);

  readonly #list: readonly ResourceType[];
  readonly #byUrl: ReadonlyMap<string, ResourceType>;
  readonly #byTypeName: ReadonlyMap<string, ResourceType>;
  #registry: Registry | undefined;

  private constructor(list: readonly ResourceType[]) {
    // A stable sort: ties keep registration order.
    this.#list = Object.freeze([...list].sort((a, b) => a.pushOrder - b.pushOrder));
    this.#byUrl = new Map(list.map((t) => [t.typeUrl, t]));
    const byTypeName = new Map<string, ResourceType>();
    for (const type of list) if (type.schema !== undefined) byTypeName.set(type.schema.typeName, type);
    this.#byTypeName = byTypeName;
    Object.freeze(this);
  }

  /**
   * A new set with these types added (a definition, or a type made by `defineResourceType`). Throws an XdsError
   * (InvalidArgument) for an invalid definition or a type URL or schema the set already has.
   */
  with(...types: readonly (ResourceTypeDefinition | ResourceType)[]): ResourceTypes {
    const list = [...this.#list];
    const urls = new Set(this.#byUrl.keys());
    const names = new Set(this.#byTypeName.keys());
    let next = Math.max(-1, ...list.map((t) => t.pushOrder)) + 1;
    for (const given of types) {
      const type = isResourceType(given) ? given : defineResourceType(given, next);
      if (urls.has(type.typeUrl))
        throw new XdsError(Code.InvalidArgument, `resource type ${type.typeUrl} is already registered`);
      if (type.schema !== undefined && names.has(type.schema.typeName))
        throw new XdsError(
          Code.InvalidArgument,
          `resource type ${type.typeUrl}: schema ${type.schema.typeName} is already registered`,
        );
      urls.add(type.typeUrl);
      if (type.schema !== undefined) names.add(type.schema.typeName);
      list.push(type);
      next = Math.max(next, type.pushOrder + 1);
    }
    return new ResourceTypes(list);
  }

  /** The type of a type URL, or undefined when the set does not have it. */
  get(typeUrl: string): ResourceType | undefined {
    return this.#byUrl.get(typeUrl);
  }

  /** True when the set has the type URL. */
  has(typeUrl: string): boolean {
    return this.#byUrl.has(typeUrl);
  }

  /** The type of a type URL; throws an XdsError (InvalidArgument) naming it when the set does not have it. */
  require(typeUrl: string): ResourceType {
    const type = this.#byUrl.get(typeUrl);
    if (type === undefined)
      throw new XdsError(
        Code.InvalidArgument,
        `${typeUrl} is not a known resource type (register it: ResourceTypes.builtIn.with({ typeUrl, … }))`,
      );
    return type;
  }

  /** The type of a decoded resource (by its message type name), or undefined. */
  ofMessage(message: Message): ResourceType | undefined {
    return this.#byTypeName.get(message.$typeName);
  }

  /** The number of types. */
  get size(): number {
    return this.#list.length;
  }

  /** The types in ADS push order (rule S11). */
  list(): readonly ResourceType[] {
    return this.#list;
  }

  /** The position of a type URL in push order (rule S11); unknown types go last. */
  pushOrder(typeUrl: string): number {
    return this.#byUrl.get(typeUrl)?.pushOrder ?? Number.MAX_SAFE_INTEGER;
  }

  /**
   * A protobuf-es registry of every xDS message plus the schemas of the registered types, for `Any` and proto3
   * JSON of their resources.
   */
  get registry(): Registry {
    if (this.#registry === undefined) {
      const extra = this.#list.filter((t) => !t.builtIn && t.schema !== undefined).map((t) => t.schema!);
      this.#registry = extra.length === 0 ? xdsRegistry : createRegistry(xdsRegistry, ...extra);
    }
    return this.#registry;
  }

  [Symbol.iterator](): Iterator<ResourceType> {
    return this.#list[Symbol.iterator]();
  }
}

function isResourceType(value: ResourceTypeDefinition | ResourceType): value is ResourceType {
  return typeof (value as ResourceType).nameOf === 'function' && 'builtIn' in value;
}
