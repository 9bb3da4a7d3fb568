/**
 * The PromQL an SLI reads from Prometheus: a counter, written as a series selector
 * (`http_requests_total{job="api",code!~"5.."}`) or `sum()` of one. Gantry takes the increase
 * itself (per series, so a counter reset in one series is not a drop of the sum), which is why
 * rate(), increase(), range selectors and other expressions are refused here, with the fix.
 */
export type CounterQuery = { selector: string } | { error: string };

const fix = 'give a counter: a series selector such as http_requests_total{job="api"}, or sum() of one';

export function counterQuery(query: string): CounterQuery {
  const text = query.trim();
  if (text === "") return { error: `the query is empty; ${fix}` };
  const wrapped = /^sum\s*\(([\s\S]*)\)$/.exec(text);
  const inner = wrapped ? wrapped[1]!.trim() : text;
  const call = /^([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:by|without)?\s*\(/.exec(inner);
  if (call || /^sum\s+(by|without)\b/.test(text))
    return {
      error: /^(rate|irate|increase|delta|idelta|sum_over_time)$/.test(call?.[1] ?? "")
        ? `${call![1]}() is not needed: Gantry takes the increase of the counter over each interval itself; ${fix}`
        : `${fix} (Gantry sums every series the selector matches; sum by/without and other functions are not read)`,
    };
  const parsed = selector(inner);
  if ("error" in parsed) return parsed;
  return { selector: parsed.selector };
}

/** A vector selector and nothing after it. */
function selector(text: string): CounterQuery {
  let i = 0;
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(text)?.[0] ?? "";
  i = name.length;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skip();
  const matchers: string[] = [];
  if (text[i] === "{") {
    i++;
    for (;;) {
      skip();
      if (text[i] === "}") break;
      const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i))?.[0];
      if (!label) return { error: `a label name was expected at "${text.slice(i, i + 20)}"; ${fix}` };
      i += label.length;
      skip();
      const op = /^(=~|!~|!=|=)/.exec(text.slice(i))?.[0];
      if (!op) return { error: `label ${label} needs =, !=, =~ or !~ and a quoted value; ${fix}` };
      i += op.length;
      skip();
      const value = stringLiteral(text, i);
      if (value === undefined) return { error: `label ${label} needs a quoted value; ${fix}` };
      matchers.push(`${label}${op}${value}`);
      i += value.length;
      skip();
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] !== "}") return { error: `"," or "}" was expected after ${label}${op}${value}; ${fix}` };
      break;
    }
    i++;
    skip();
  }
  if (name === "" && matchers.length === 0) return { error: fix };
  if (i < text.length) {
    const rest = text.slice(i);
    return {
      error: rest.startsWith("[")
        ? `a range ${rest.split("]")[0]}] is not needed: Gantry takes the increase of the counter over each interval itself; ${fix}`
        : `"${rest.slice(0, 20)}" after the selector is not read; ${fix}`,
    };
  }
  return { selector: `${name}${matchers.length > 0 ? `{${matchers.join(",")}}` : ""}` };
}

/** The quoted string starting at i ("…", '…' with backslash escapes, or `…`), as written. */
function stringLiteral(text: string, i: number): string | undefined {
  const quote = text[i];
  if (quote !== '"' && quote !== "'" && quote !== "`") return undefined;
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\" && quote !== "`") {
      j++;
      continue;
    }
    if (text[j] === quote) return text.slice(i, j + 1);
  }
  return undefined;
}
