// Content-Type as RFC 9110 §8.3.1 defines it: type "/" subtype *( OWS ";" OWS [ parameter ] ),
// case-insensitive type, subtype and parameter names; a parameter's value is a token or a quoted string.

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const MEDIA_TYPE = new RegExp(
  `^(${TOKEN})/(${TOKEN})((?:[ \\t]*;[ \\t]*(?:${TOKEN}=(?:${TOKEN}|"(?:[^"\\\\]|\\\\.)*"))?)*)[ \\t]*$`,
);

/** The media type's essence (`type/subtype`, lower case), or null when the header is not a media type. */
export function mediaTypeEssence(header: string | undefined): string | null {
  const m = header === undefined ? null : MEDIA_TYPE.exec(header.trim());
  return m ? `${m[1]}/${m[2]}`.toLowerCase() : null;
}
