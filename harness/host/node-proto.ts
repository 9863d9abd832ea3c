/**
 * envoy.config.core.v3.Node (what xds.node returns, serialized) built with protobufjs reflection.
 * Only the fields Envoy fills for a bootstrap node plus its user agent are modelled.
 */
import protobuf from "protobufjs";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const root = protobuf.Root.fromJSON(({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Struct: { fields: { fields: { keyType: "string", type: "Value", id: 1 } } },
            Value: {
              oneofs: { kind: { oneof: ["nullValue", "numberValue", "stringValue", "boolValue", "structValue", "listValue"] } },
              fields: {
                nullValue: { type: "int32", id: 1 },
                numberValue: { type: "double", id: 2 },
                stringValue: { type: "string", id: 3 },
                boolValue: { type: "bool", id: 4 },
                structValue: { type: "Struct", id: 5 },
                listValue: { type: "ListValue", id: 6 },
              },
            },
            ListValue: { fields: { values: { rule: "repeated", type: "Value", id: 1 } } },
          },
        },
      },
    },
    envoy: {
      nested: {
        type: { nested: { v3: { nested: { SemanticVersion: { fields: { majorNumber: { type: "uint32", id: 1 }, minorNumber: { type: "uint32", id: 2 }, patch: { type: "uint32", id: 3 } } } } } } },
        config: {
          nested: {
            core: {
              nested: {
                v3: {
                  nested: {
                    Locality: { fields: { region: { type: "string", id: 1 }, zone: { type: "string", id: 2 }, subZone: { type: "string", id: 3 } } },
                    BuildVersion: {
                      fields: {
                        version: { type: "envoy.type.v3.SemanticVersion", id: 1 },
                        metadata: { type: "google.protobuf.Struct", id: 2 },
                      },
                    },
                    Node: {
                      oneofs: { userAgentVersionType: { oneof: ["userAgentVersion", "userAgentBuildVersion"] } },
                      fields: {
                        id: { type: "string", id: 1 },
                        cluster: { type: "string", id: 2 },
                        metadata: { type: "google.protobuf.Struct", id: 3 },
                        locality: { type: "Locality", id: 4 },
                        userAgentName: { type: "string", id: 6 },
                        userAgentVersion: { type: "string", id: 7 },
                        userAgentBuildVersion: { type: "BuildVersion", id: 8 },
                        clientFeatures: { rule: "repeated", type: "string", id: 10 },
                      },
                    },
                    Metadata: { fields: { filterMetadata: { keyType: "string", type: "google.protobuf.Struct", id: 1 } } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
// eslint-disable-next-line @typescript-eslint/no-explicit-any
}) as any);

export const NodeType = root.lookupType("envoy.config.core.v3.Node");
export const MetadataType = root.lookupType("envoy.config.core.v3.Metadata");

/** The node object as Envoy's LocalInfo holds it (user agent "envoy", build version of the profile). */
export function nodeObject(node: { id: string; cluster: string }, envoyMinor: number): Record<string, unknown> {
  return {
    id: node.id,
    cluster: node.cluster,
    userAgentName: "envoy",
    userAgentBuildVersion: { version: { majorNumber: 1, minorNumber: envoyMinor, patch: 0 } },
  };
}
