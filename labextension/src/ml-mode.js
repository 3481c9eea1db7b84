// A CodeMirror stream mode for ML (mlpy), read the way mlpy's lexer reads it (spec §1).
//
// The one subtle rule is `//`: directly after an operand end — a number, string, name,
// `true`/`false`/`null`, `)` or `]` — it is floor division; anywhere else it starts a
// comment. The state remembers whether the last token (across whitespace and line ends)
// was an operand end. tests/kernel/test_labextension.py checks these word lists against
// mlpy/language.py.

export const KEYWORDS = [
  'function', 'fn', 'return', 'if', 'elif', 'else', 'while', 'for', 'in', 'break',
  'continue', 'try', 'except', 'finally', 'throw', 'import', 'as', 'capability',
  'nonlocal'
];
export const CONSTANTS = ['true', 'false', 'null'];
export const CAPABILITY_WORDS = [
  'resource', 'allow', 'read', 'write', 'execute', 'network', 'system'
];

const keywordSet = new Set(KEYWORDS);
const constantSet = new Set(CONSTANTS);
const capabilitySet = new Set(CAPABILITY_WORDS);

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const NUMBER = /^(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?/;
const OPERATOR = /^(?:=>|==|!=|<=|>=|&&|\|\||\/\/|[-+*/%<>=!?:])/;

function stringBody(stream, state) {
  // inside a string: escapes are their own token; a string ends at its line's end
  if (stream.eat('\\')) {
    if (stream.match(/^u[0-9A-Fa-f]{4}/) || stream.match(/^[ntr\\"']/)) {
      return 'escape';
    }
    stream.next(); // any other pair is kept as written (spec §1)
    return 'string';
  }
  while (!stream.eol()) {
    const ch = stream.peek();
    if (ch === '\\') {
      return 'string';
    }
    stream.next();
    if (ch === state.quote) {
      state.quote = null;
      state.afterOperand = true;
      return 'string';
    }
  }
  return 'string';
}

export const mlMode = {
  name: 'ml',
  startState() {
    return { afterOperand: false, quote: null, capabilityDepth: 0, expectName: null };
  },
  copyState(state) {
    return { ...state };
  },
  token(stream, state) {
    if (state.quote) {
      return stringBody(stream, state);
    }
    if (stream.eatSpace()) {
      return null;
    }
    if (stream.match('//', false)) {
      if (state.afterOperand) {
        stream.match('//');
        state.afterOperand = false;
        return 'operator';
      }
      stream.skipToEnd();
      return 'comment';
    }
    const ch = stream.peek();
    if (ch === '"' || ch === "'") {
      stream.next();
      state.quote = ch;
      state.afterOperand = false;
      return stringBody(stream, state);
    }
    let m = stream.match(NUMBER);
    if (m) {
      state.afterOperand = true;
      return 'number';
    }
    m = stream.match(IDENT);
    if (m) {
      const word = m[0];
      const expected = state.expectName;
      state.expectName = null;
      if (constantSet.has(word)) {
        state.afterOperand = true;
        return 'atom';
      }
      if (keywordSet.has(word)) {
        state.afterOperand = false;
        if (word === 'function' || word === 'capability') {
          state.expectName = word;
        }
        return 'keyword';
      }
      state.afterOperand = true;
      if (state.capabilityDepth > 0 && capabilitySet.has(word)) {
        return 'keyword';
      }
      if (expected === 'function') {
        return 'def';
      }
      if (expected === 'capability') {
        state.capabilityDepth = -1; // the block opens at the next `{`
        return 'typeName';
      }
      return 'variableName';
    }
    stream.next();
    if (ch === ')' || ch === ']') {
      state.afterOperand = true;
      return 'bracket';
    }
    state.afterOperand = false;
    if (ch === '{') {
      if (state.capabilityDepth !== 0) {
        state.capabilityDepth = state.capabilityDepth < 0 ? 1 : state.capabilityDepth + 1;
      }
      return 'bracket';
    }
    if (ch === '}') {
      if (state.capabilityDepth > 0) {
        state.capabilityDepth -= 1;
      }
      return 'bracket';
    }
    if (ch === '(' || ch === '[') {
      return 'bracket';
    }
    stream.backUp(1);
    if (stream.match(OPERATOR)) {
      return 'operator';
    }
    stream.next();
    return 'punctuation';
  },
  languageData: {
    commentTokens: { line: '//' },
    closeBrackets: { brackets: ['(', '[', '{', '"', "'"] }
  }
};
