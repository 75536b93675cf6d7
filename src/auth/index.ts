export type { Authenticator, AuthenticatedUser } from './authenticator.js';
export { bearerToken, MAX_TOKEN_LENGTH } from './bearer.js';
export { callerActor, claimsFrom, ON_BEHALF_OF, type CallerClaims } from './caller.js';
export { readStaticTokenFile, staticTokens, MIN_STATIC_TOKEN_LENGTH, type StaticToken } from './static.js';
export { kubeTokenReviewer, tokenReviewAuthenticator, type TokenReviewer, type TokenReviewOptions } from './tokenreview.js';
export { selectAuthenticator, type AuthenticatorOptions } from './select.js';
