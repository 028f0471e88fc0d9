#include "http/metrics.hpp"

#include <cstdio>

namespace quotad::http {

namespace {

constexpr std::array<std::string_view, route_count> route_templates{
  "/healthz",
  "/readyz",
  "/metrics",
  "/v1/cluster",
  "/v1/cluster/members/{id}",
  "/v1/cluster:leave",
  "/v1/clients/{id}",
  "/v1/clients/{id}/quotas",
  "/v1/clients/{id}/usage",
  "/v1/clients/{id}/usage:import",
  "/v1/usage:batch",
  "/v1/authorize",
  "/v1/testing/clock",
  "/v1/testing/clock:advance",
  "other",
};

constexpr std::array<std::string_view, debit_outcome_count> outcome_names{
  "allowed", "refused", "unknown_client", "unavailable"};

void append_number(std::string& out, std::uint64_t n) { out += std::to_string(n); }

void append_seconds(std::string& out, double s) {
  char buffer[32];
  int n = std::snprintf(buffer, sizeof buffer, "%.9g", s);
  out.append(buffer, static_cast<std::size_t>(n));
}

} // namespace

std::string_view route_template(route r) { return route_templates[static_cast<std::size_t>(r)]; }

void metrics::record(route r, unsigned status, std::chrono::nanoseconds elapsed) {
  route_figures& f = routes_[static_cast<std::size_t>(r)];
  if (status >= min_status && status <= max_status) f.by_status[status - min_status].fetch_add(1, relaxed);
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::size_t bucket = 0;
  while (bucket < bucket_bounds.size() && seconds > bucket_bounds[bucket]) ++bucket;
  f.buckets[bucket].fetch_add(1, relaxed);
  f.latency_ns.fetch_add(static_cast<std::uint64_t>(elapsed.count() > 0 ? elapsed.count() : 0), relaxed);
}

std::uint64_t metrics::requests(route r, unsigned status) const {
  if (status < min_status || status > max_status) return 0;
  return routes_[static_cast<std::size_t>(r)].by_status[status - min_status].load(relaxed);
}

void metrics::append(std::string& out) const {
  out += "# HELP quotad_http_requests_total HTTP requests answered, by route template and status.\n"
         "# TYPE quotad_http_requests_total counter\n";
  for (std::size_t r = 0; r < route_count; ++r) {
    for (std::size_t s = 0; s < status_slots; ++s) {
      std::uint64_t n = routes_[r].by_status[s].load(relaxed);
      if (n == 0) continue;
      out += "quotad_http_requests_total{route=\"";
      out += route_templates[r];
      out += "\",status=\"";
      append_number(out, min_status + s);
      out += "\"} ";
      append_number(out, n);
      out += '\n';
    }
  }

  out += "# HELP quotad_http_request_duration_seconds Time from a parsed request to its response.\n"
         "# TYPE quotad_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < route_count; ++r) {
    const route_figures& f = routes_[r];
    std::uint64_t cumulative = 0;
    std::array<std::uint64_t, bucket_bounds.size() + 1> counts{};
    for (std::size_t b = 0; b < counts.size(); ++b) counts[b] = f.buckets[b].load(relaxed);
    std::uint64_t total = 0;
    for (auto c : counts) total += c;
    if (total == 0) continue;  // routes never used stay out of the exposition
    for (std::size_t b = 0; b < counts.size(); ++b) {
      cumulative += counts[b];
      out += "quotad_http_request_duration_seconds_bucket{route=\"";
      out += route_templates[r];
      out += "\",le=\"";
      if (b < bucket_bounds.size()) append_seconds(out, bucket_bounds[b]);
      else out += "+Inf";
      out += "\"} ";
      append_number(out, cumulative);
      out += '\n';
    }
    out += "quotad_http_request_duration_seconds_sum{route=\"";
    out += route_templates[r];
    out += "\"} ";
    append_seconds(out, static_cast<double>(f.latency_ns.load(relaxed)) / 1e9);
    out += "\nquotad_http_request_duration_seconds_count{route=\"";
    out += route_templates[r];
    out += "\"} ";
    append_number(out, cumulative);
    out += '\n';
  }

  out += "# HELP quotad_debits_total Debits judged through this front door, by outcome.\n"
         "# TYPE quotad_debits_total counter\n";
  for (std::size_t o = 0; o < debit_outcome_count; ++o) {
    out += "quotad_debits_total{outcome=\"";
    out += outcome_names[o];
    out += "\"} ";
    append_number(out, debits_[o].load(relaxed));
    out += '\n';
  }

  out += "# HELP quotad_http_open_connections HTTP connections open now.\n"
         "# TYPE quotad_http_open_connections gauge\n"
         "quotad_http_open_connections ";
  out += std::to_string(open_connections_.load(relaxed));
  out += "\n# HELP quotad_http_connections_total HTTP connections accepted.\n"
         "# TYPE quotad_http_connections_total counter\n"
         "quotad_http_connections_total ";
  append_number(out, connections_total_.load(relaxed));
  out += '\n';
}

} // namespace quotad::http
