/**
 * `jwt` provider (spec 5.2, scheme Bearer): validates an IdP-signed access
 * token against the JWKS at `cert_uri` and maps its claims to a user.
 * `iam_realm` is accepted for compatibility and unused, as in the original.
 * See `docs/providers.md#jwt` for keys, algorithms and JWKS behaviour.
 *
 * @module
 */

import { defineProvider, OptionsError, type PluginOptions } from "../lib/plugin.ts";
import {
  type AccessTokenOptions,
  createAccessTokenValidator,
  parseAccessTokenOptions,
} from "./_shared/access_token.ts";
import { warnInsecureTransport } from "./_shared/transport.ts";
import { ACCESS_TOKEN_OPTION_KEYS } from "./_shared/access_token_options.ts";

/** The `jwt` provider. */
export default defineProvider<AccessTokenOptions>({
  scheme: "Bearer",
  optionKeys: ["iam_realm", ...ACCESS_TOKEN_OPTION_KEYS],
  parseOptions(options: PluginOptions): AccessTokenOptions {
    const realm = options.iam_realm;
    if (realm !== undefined && realm !== null && typeof realm !== "string") {
      throw new OptionsError(["iam_realm"], "expected a string (accepted and unused)");
    }
    return parseAccessTokenOptions(options);
  },
  create(options, context) {
    warnInsecureTransport(context.log, "providers.jwt.insecure_transport", {
      cert_uri: options.certUri,
    });
    const validator = createAccessTokenValidator(options, context);
    return {
      authenticate: (credential, ctx) => validator.validate(credential, ctx.signal, ctx.explain),
      status: () => validator.status(),
      [Symbol.asyncDispose]: () => validator.settled(),
    };
  },
});
