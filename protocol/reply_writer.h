#pragma once
// ReplyWriter is the only code that emits RESP. Handlers say what they reply (a null, a map of n pairs, a
// double) and the writer picks the bytes for the connection's protocol: RESP2 by default, RESP3 after HELLO 3.
#include <cstdint>
#include <string>
#include <string_view>

namespace rc {

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string& out, int protocol = 2) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  bool resp3() const { return protocol_ >= 3; }

  void simple(std::string_view text);       // +text (must hold no CR or LF)
  void error(std::string_view text);        // -text; text starts with its code ("ERR ...", "WRONGTYPE ...")
  void integer(int64_t value);              // :n
  void bulk(std::string_view bytes);        // $len bytes
  void null();                              // $-1 / _
  void null_array();                        // *-1 / _
  void array(size_t count);                 // *n
  void map(size_t pairs);                   // *2n / %n
  void set(size_t count);                   // *n / ~n
  void push(size_t count);                  // *n / >n
  void double_value(double value);          // $len text / ,text
  void boolean(bool value);                 // :1 :0 / #t #f
  void verbatim(std::string_view text, std::string_view format = "txt");  // $len / =len fmt:text
  void big_number(std::string_view digits);  // $len / (digits
  void ok() { simple("OK"); }

  // Bytes already in RESP form (a cached reply), appended as they are.
  void raw(std::string_view bytes) { out_.append(bytes); }

  size_t size() const { return out_.size(); }

 private:
  void header(char type, int64_t count);
  std::string& out_;
  int protocol_;
};

}  // namespace rc
