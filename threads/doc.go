// Package threads owns the conversations of a run: a [Thread] is a named
// conversation with a model (rules §3.2-§3.4), made of
// [Message] values made of [Part] values (rule §7.9 in spirit).
// [Serialize] turns a thread into text for another model's prompt (the
// serialize-thread block, rule §3.7 and rule D5). The package knows
// nothing about providers.
//
// # Plain data
//
// Every type is plain data: exported fields with json tags, no funcs, and
// pointers only to a part's own content. Threads marshal to JSON and back without loss, which
// pause/continue and durable runtimes rely on.
//
// JSON values (tool-call arguments and results, object values) are held as
// [json.RawMessage], not decoded, so they survive whatever decoder reads the
// state: 9223372036854775807 and 0.1 keep every digit and object keys keep
// their order. encoding/json writes a RawMessage compact with <, > and &
// escaped as \u003c, \u003e and \u0026; a value held in that form (as
// json.Marshal writes it) comes back byte for byte, a value spelled
// otherwise comes back with the same value in that form. Serialize prints
// every value in one canonical form, so its output does not change across a
// round trip.
//
// # Assistant turns
//
// A next-message turn is one assistant message, whatever the number of steps
// of its tool loop (rule §3.4 item 4). A step-start part marks where each
// step begins; a tool call's result or error is stored on its tool-call
// part. [Message.FinalStepText] is the text after the last step-start, the
// output of next-message (rule D7).
//
// # Markdown format
//
// Serialize with format "markdown" (the default) writes every message in
// order, including messages with Visible false: the output feeds a model,
// and that model should see what the thread's model saw. It leaves out the
// system prompt, reasoning (the model's scratch work) and step-start
// markers. Each message is a heading line naming its role, "## User",
// "## Assistant" or "## System", followed by one block per part:
//
//   - text: the text as it is (nothing when empty), except that a line that would read as a
//     layout line (below) gets a backslash in front, as markdown escapes it;
//   - tool call: the line "**Tool call** `NAME` (ID)" and the arguments in a
//     json fence; then, when there is a result, the line "**Result**" and the
//     result in a json fence; then, when there is an error, the line
//     "**Error**" and the error message in a text fence;
//   - object (structured output): the line "**Object** `TYPE`" and the value
//     in a json fence;
//   - file: the line "**File** `NAME` (MEDIA-TYPE, SIZE bytes): URL", where
//     NAME is the filename, else the file id, and ", SIZE bytes" is left out
//     when the size is unknown.
//
// Headings, the lines above and fences are separated by one blank line; the
// output has no trailing newline and an empty thread gives "". Layout lines
// are exactly "## User", "## Assistant", "## System", "**Result**" and
// "**Error**", and lines starting with "**Tool call** ", "**Object** " or
// "**File** "; text never produces one, so a reader can always tell the
// structure from the content. JSON values are written on one line: compact,
// object keys sorted, numbers as stored, no HTML escaping; a tool call
// without arguments shows {}. A fence is three backticks, or one more than
// the longest run of backticks in its content. A turn with a tool call:
//
//	## User
//
//	What is the tide in Brest?
//
//	## Assistant
//
//	Let me check.
//
//	**Tool call** `get-tide` (call_1)
//
//	```json
//	{"place":"Brest"}
//	```
//
//	**Result**
//
//	```json
//	{"height":4.2}
//	```
//
//	The tide is 4.2 m.
//
// # JSON format
//
// Serialize with format "json" writes the same messages as one line: an
// array of {role, content, toolCalls?} where content joins the message's
// non-empty text parts, object values (as JSON) and file lines (as above) with a
// blank line, and toolCalls, left out when empty, are {id, name, arguments,
// result?, error?}. The turn above is:
//
//	[{"role":"user","content":"What is the tide in Brest?"},{"role":"assistant","content":"Let me check.\n\nThe tide is 4.2 m.","toolCalls":[{"id":"call_1","name":"get-tide","arguments":{"place":"Brest"},"result":{"height":4.2}}]}]
package threads
