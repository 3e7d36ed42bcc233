#include "protocol/reply_writer.h"

#include <charconv>

#include "protocol/numbers.h"

namespace rc {

void ReplyWriter::header(char type, int64_t count) {
  char buffer[24];
  buffer[0] = type;
  const auto result = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, count);
  char* end = result.ptr;
  *end++ = '\r';
  *end++ = '\n';
  out_.append(buffer, static_cast<size_t>(end - buffer));
}

void ReplyWriter::simple(std::string_view text) {
  out_.push_back('+');
  out_.append(text);
  out_.append("\r\n");
}

void ReplyWriter::error(std::string_view text) {
  // A user's bytes can end up in an error text (a command name, an argument); CR or LF there would break
  // the framing, so Redis maps them to spaces. We do the same.
  out_.push_back('-');
  const size_t start = out_.size();
  out_.append(text);
  for (size_t i = start; i < out_.size(); ++i) {
    if (out_[i] == '\r' || out_[i] == '\n') out_[i] = ' ';
  }
  out_.append("\r\n");
}

void ReplyWriter::integer(int64_t value) { header(':', value); }

void ReplyWriter::bulk(std::string_view bytes) {
  header('$', static_cast<int64_t>(bytes.size()));
  out_.append(bytes);
  out_.append("\r\n");
}

void ReplyWriter::null() { out_.append(resp3() ? "_\r\n" : "$-1\r\n"); }

void ReplyWriter::null_array() { out_.append(resp3() ? "_\r\n" : "*-1\r\n"); }

void ReplyWriter::array(size_t count) { header('*', static_cast<int64_t>(count)); }

void ReplyWriter::map(size_t pairs) {
  if (resp3()) {
    header('%', static_cast<int64_t>(pairs));
  } else {
    header('*', static_cast<int64_t>(pairs * 2));
  }
}

void ReplyWriter::set(size_t count) { header(resp3() ? '~' : '*', static_cast<int64_t>(count)); }

void ReplyWriter::push(size_t count) { header(resp3() ? '>' : '*', static_cast<int64_t>(count)); }

void ReplyWriter::double_value(double value) {
  const std::string text = format_double(value);
  if (!resp3()) return bulk(text);
  out_.push_back(',');
  out_.append(text);
  out_.append("\r\n");
}

void ReplyWriter::boolean(bool value) {
  if (!resp3()) return integer(value ? 1 : 0);
  out_.append(value ? "#t\r\n" : "#f\r\n");
}

void ReplyWriter::verbatim(std::string_view text, std::string_view format) {
  if (!resp3()) return bulk(text);
  header('=', static_cast<int64_t>(text.size() + format.size() + 1));
  out_.append(format);
  out_.push_back(':');
  out_.append(text);
  out_.append("\r\n");
}

void ReplyWriter::big_number(std::string_view digits) {
  if (!resp3()) return bulk(digits);
  out_.push_back('(');
  out_.append(digits);
  out_.append("\r\n");
}

}  // namespace rc
