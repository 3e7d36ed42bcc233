#pragma once
// Every error text a client can receive, word for word as Redis 7.0 sends it (server.c's shared objects and
// the handlers' addReplyError calls). Each text carries its error code; ReplyWriter::error sends it as is.
#include <string>
#include <string_view>

namespace rc::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kNotFloat = "ERR value is not a valid float";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";
inline constexpr std::string_view kNoSuchKey = "ERR no such key";
inline constexpr std::string_view kSameObject = "ERR source and destination objects are the same";
inline constexpr std::string_view kDbIndexOutOfRange = "ERR DB index is out of range";
inline constexpr std::string_view kInvalidDbIndex = "ERR invalid DB index";
inline constexpr std::string_view kDbIndexNotInt32 =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
inline constexpr std::string_view kNoAuth = "NOAUTH Authentication required.";
inline constexpr std::string_view kNoProto = "NOPROTO unsupported protocol version";
inline constexpr std::string_view kStringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
inline constexpr std::string_view kBusyKey = "BUSYKEY Target key name already exists.";
inline constexpr std::string_view kWrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
inline constexpr std::string_view kDecrementOverflow = "ERR decrement would overflow";
inline constexpr std::string_view kNanOrInfinity = "ERR increment would produce NaN or Infinity";
inline constexpr std::string_view kOffsetOutOfRange = "ERR offset is out of range";
inline constexpr std::string_view kLoading = "LOADING Redis is loading the dataset in memory";
inline constexpr std::string_view kShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";
inline constexpr std::string_view kInvalidCursor = "ERR invalid cursor";
inline constexpr std::string_view kValueOutOfRange = "ERR value is out of range";
inline constexpr std::string_view kNanOrInfinityValue = "ERR value is NaN or Infinity";

// Hashes.
inline constexpr std::string_view kHashValueNotInteger = "ERR hash value is not an integer";
inline constexpr std::string_view kHashValueNotFloat = "ERR hash value is not a float";
// HRANDFIELD's count (Redis reads it in -LONG_MAX..LONG_MAX).
inline constexpr std::string_view kCountOutOfRange =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";

// LCS.
inline constexpr std::string_view kLcsNotStrings = "ERR The specified keys must contain string values";
inline constexpr std::string_view kLcsLenAndIdx = "ERR If you want both the length and indexes, please just use IDX.";
inline constexpr std::string_view kLcsStringTooLong = "ERR String too long for LCS";
inline constexpr std::string_view kLcsTableTooBig =
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len";
inline constexpr std::string_view kLcsAllocationFailed =
    "ERR Insufficient memory, failed allocating transient memory for LCS";

// Sets: SPOP's count, SINTERCARD's numkeys and LIMIT (each also for an argument that is not a number).
inline constexpr std::string_view kCountNotPositive = "ERR value is out of range, must be positive";
inline constexpr std::string_view kNumkeysNotPositive = "ERR numkeys should be greater than 0";
inline constexpr std::string_view kNumkeysOverArgs = "ERR Number of keys can't be greater than number of args";
inline constexpr std::string_view kLimitNegative = "ERR LIMIT can't be negative";

// Lists.
inline constexpr std::string_view kIndexOutOfRange = "ERR index out of range";
// LMPOP and ZMPOP (and their blocking forms): COUNT 0 or less.
inline constexpr std::string_view kMpopCountNotPositive = "ERR count should be greater than 0";
inline constexpr std::string_view kLposRankZero =
    "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to "
    "start from the end of the list";
inline constexpr std::string_view kLposCountNegative = "ERR COUNT can't be negative";
inline constexpr std::string_view kLposMaxlenNegative = "ERR MAXLEN can't be negative";
// Sorted sets.
inline constexpr std::string_view kZaddXxAndNx = "ERR XX and NX options at the same time are not compatible";
inline constexpr std::string_view kZaddGtLtNx = "ERR GT, LT, and/or NX options at the same time are not compatible";
inline constexpr std::string_view kZaddIncrPairs = "ERR INCR option supports a single increment-element pair";
inline constexpr std::string_view kScoreNaN = "ERR resulting score is not a number (NaN)";
inline constexpr std::string_view kMinMaxNotFloat = "ERR min or max is not a float";
inline constexpr std::string_view kMinMaxNotLex = "ERR min or max not valid string range item";
inline constexpr std::string_view kLimitNeedsByscoreOrBylex =
    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX";
inline constexpr std::string_view kWithscoresWithBylex =
    "ERR syntax error, WITHSCORES not supported in combination with BYLEX";
inline constexpr std::string_view kWeightNotFloat = "ERR weight value is not a float";
std::string at_least_one_key(std::string_view command_fullname);  // ...needed for 'zunion' command
inline constexpr std::string_view kPackedThresholdRange =
    "ERR argument must be a memory value bigger than 1 and smaller than 4gb";

// Write commands (and PING) while the disk cannot keep up: the last background save failed (with save
// points configured and stop-writes-on-bgsave-error yes), or the AOF cannot be written.
inline constexpr std::string_view kMisconfBgsave =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. "
    "Commands that may modify the data set are disabled, because this instance is configured to report "
    "errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the "
    "Redis logs for details about the RDB error.";
std::string misconf_aof(int error_number);  // MISCONF Errors writing to the AOF file: File too large

// Protocol errors: replied, then the connection is closed.
inline constexpr std::string_view kProtoInlineTooBig = "ERR Protocol error: too big inline request";
inline constexpr std::string_view kProtoUnbalancedQuotes = "ERR Protocol error: unbalanced quotes in request";
inline constexpr std::string_view kProtoMultibulkCountTooBig = "ERR Protocol error: too big mbulk count string";
inline constexpr std::string_view kProtoInvalidMultibulkLength = "ERR Protocol error: invalid multibulk length";
inline constexpr std::string_view kProtoBulkCountTooBig = "ERR Protocol error: too big bulk count string";
inline constexpr std::string_view kProtoInvalidBulkLength = "ERR Protocol error: invalid bulk length";
inline constexpr std::string_view kProtoUnauthenticatedMultibulk = "ERR Protocol error: unauthenticated multibulk length";
inline constexpr std::string_view kProtoUnauthenticatedBulk = "ERR Protocol error: unauthenticated bulk length";
std::string protocol_expected_dollar(char got);  // ERR Protocol error: expected '$', got 'x'

std::string wrong_arity(std::string_view command_fullname);       // ...for 'get' command
std::string invalid_expire_time(std::string_view command);         // ...in 'set' command
std::string unknown_subcommand(std::string_view subcommand, std::string_view container);
// What a container that checks its subcommand's arguments itself (DEBUG, FUNCTION FLUSH) answers.
std::string unknown_subcommand_or_arity(std::string_view subcommand, std::string_view container);

}  // namespace rc::errors
