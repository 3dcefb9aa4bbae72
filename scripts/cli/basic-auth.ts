/** An HTTP basic-auth `Authorization` value, for the CLIs that call a sink or another target. */
export const basicAuthorization = ({ user, pass }: { user: string; pass: string }) =>
  `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
