export type { AuthenticatedUser, Authenticator } from './authenticator.js';
export { bearerToken, MAX_TOKEN_LENGTH } from './bearer.js';
export { type CallerClaims, callerActor, claimsFrom, ON_BEHALF_OF } from './caller.js';
export { type AuthenticatorOptions, selectAuthenticator } from './select.js';
export { MIN_STATIC_TOKEN_LENGTH, readStaticTokenFile, type StaticToken, staticTokens } from './static.js';
export { kubeTokenReviewer, type TokenReviewer, type TokenReviewOptions, tokenReviewAuthenticator } from './tokenreview.js';
