#include "server/client_session.h"

#include "server/blocking.h"
#include "server/pubsub.h"

namespace rc {

ClientSession::ClientSession(uint64_t id_, int fd_, std::string peer_, std::string local_, int64_t created_ms_)
    : id(id_), fd(fd_), peer(std::move(peer_)), local(std::move(local_)), created_ms(created_ms_) {}

ClientSession::~ClientSession() = default;

Subscriber& ClientSession::subscriber() {
  if (!subscriber_) subscriber_ = std::make_unique<Subscriber>(*this);
  return *subscriber_;
}

}  // namespace rc
