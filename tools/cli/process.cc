#include "tools/cli/process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <deque>
#include <fstream>

#include "reactor/socket.h"

namespace ringraft::tools {

Result<std::string> self_executable() {
  char path[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (length <= 0) return Error::from_errno(errno, "readlink /proc/self/exe");
  return std::string(path, static_cast<size_t>(length));
}

Result<pid_t> spawn_detached(const std::string& executable,
                             const std::vector<std::string>& arguments,
                             const std::string& log_path) {
  const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Error::from_errno(errno, "open " + log_path);
  std::vector<char*> argv;  // built before fork: the child only calls async-signal-safe functions
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const std::string& argument : arguments) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    ::close(log_fd);
    return Error::from_errno(error, "fork");
  }
  if (pid == 0) {
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close_range(3, ~0u, 0);
    ::execv(executable.c_str(), argv.data());
    _exit(127);
  }
  ::close(log_fd);
  return pid;
}

bool reap_if_child(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == pid;
}

std::string tail_lines(const std::string& path, size_t line_count) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
    if (lines.size() > line_count) lines.pop_front();
  }
  std::string text;
  for (const std::string& line : lines) text += "  | " + line + "\n";
  return text;
}

bool port_free(uint16_t port) {
  FileDescriptor fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return false;
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  Result<sockaddr_in> address = ipv4_address("127.0.0.1", port);
  if (!address.ok()) return false;
  return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address.value()),
                sizeof(sockaddr_in)) == 0;
}

}  // namespace ringraft::tools
