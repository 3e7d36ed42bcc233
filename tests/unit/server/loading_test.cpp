// While the data files load (the server already listens), commands without the "loading" flag are refused
// with -LOADING, except those the load itself runs (the AOF replay's client, which has no connection);
// INFO persistence reports the progress with Redis's fields.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "server/client_session.h"
#include "server/connection.h"
#include "server/loading.h"
#include "server/server.h"

namespace {

constexpr std::string_view kLoadingReply = "-LOADING Redis is loading the dataset in memory\r\n";

std::string run(rc::Server& server, rc::ClientSession& client, const std::vector<std::string_view>& argv) {
  std::string out;
  rc::execute_command(server, client, out, argv);
  return out;
}

}  // namespace

TEST_CASE("INFO's loading fields appear only while loading, with Redis's arithmetic") {
  rc::LoadingState loading;
  CHECK_FALSE(loading.active());
  CHECK(loading.info_fields().empty());
  loading.begin();
  CHECK(loading.active());
  std::string fields = loading.info_fields();
  CHECK(fields.find("loading_total_bytes:0\r\n") != std::string::npos);
  CHECK(fields.find("loading_loaded_perc:0.00\r\n") != std::string::npos);
  CHECK(fields.find("loading_eta_seconds:1\r\n") != std::string::npos);  // Redis's figure when nothing is known
  loading.set_total_bytes(1000);
  loading.loaded_bytes().store(250);
  fields = loading.info_fields();
  CHECK(fields.starts_with("loading_start_time:"));
  CHECK(fields.find("loading_total_bytes:1000\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:250\r\n"
                    "loading_loaded_perc:25.00\r\nloading_eta_seconds:") != std::string::npos);
  loading.end();
  CHECK(loading.info_fields().empty());
}

TEST_CASE("While loading, only commands with the loading flag run for connected clients") {
  rc::Server server;
  rc::ClientSession client(2, 100, "127.0.0.1:40001", "127.0.0.1:6379", 0);  // a connected client
  rc::ClientSession loader(3, -1, "aof", "", 0);                             // the AOF replay's client
  server.loading().begin();
  for (const std::vector<std::string_view>& argv : std::vector<std::vector<std::string_view>>{
           {"PING"}, {"GET", "k"}, {"SET", "k", "v"}, {"DBSIZE"}, {"FLUSHALL"}, {"KEYS", "*"}}) {
    CHECK(run(server, client, argv) == kLoadingReply);
  }
  CHECK(run(server, client, {"ECHO", "hi"}) == "$2\r\nhi\r\n");
  CHECK(run(server, client, {"SELECT", "0"}) == "+OK\r\n");
  CHECK(run(server, client, {"INFO", "persistence"}).find("loading:1\r\n") != std::string::npos);
  // Errors that come first in Redis's order still come first.
  CHECK(run(server, client, {"NOSUCHCOMMAND"}).starts_with("-ERR unknown command"));
  CHECK(run(server, client, {"GET"}).starts_with("-ERR wrong number of arguments"));
  // The load's own commands run.
  CHECK(run(server, loader, {"SET", "loaded", "1"}) == "+OK\r\n");
  server.loading().end();
  CHECK(run(server, client, {"PING"}) == "+PONG\r\n");
  CHECK(run(server, client, {"GET", "loaded"}) == "$1\r\n1\r\n");
  CHECK(run(server, client, {"EXISTS", "k"}) == ":0\r\n");  // the refused SET did nothing
  CHECK(run(server, client, {"INFO", "persistence"}).find("loading:0\r\n") != std::string::npos);
}
