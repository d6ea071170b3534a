// A platform backend typed by openapi-typescript from /v1/openapi.json: tsc --strict must
// accept it, so that a TypeScript platform registers an endpoint and links a user through typed
// calls (scripts/openapi-check).
import createClient from "openapi-fetch";
import type { paths } from "../../target/openapi/schema";

const client = createClient<paths>({ baseUrl: "http://127.0.0.1:8080" });
const headers = { Authorization: "Bearer rn_test_x" };

export async function connect(): Promise<string[]> {
  const made = await client.POST("/v1/webhook_endpoints", {
    headers,
    body: { url: "https://pay.example.com/hooks/realname", events: ["*"] },
  });
  const secret: string | null | undefined = made.data?.secret;
  const listed = await client.GET("/v1/webhook_endpoints", { headers });
  const urls: string[] = listed.data?.endpoints.map((e) => e.url) ?? [];
  const session = await client.POST("/v1/platform/sessions", {
    headers,
    body: { external_user_id: "ext-42" },
  });
  const link: string | null | undefined = session.data?.url;
  const user = await client.GET("/v1/platform/users/{external_user_id}", {
    headers,
    params: { path: { external_user_id: "ext-42" } },
  });
  const status: string | undefined = user.data?.real_name_status;
  return [secret ?? "", link ?? "", status ?? "", ...urls];
}
