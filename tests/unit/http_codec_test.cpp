// Request-body parsing, JSON writing and rate-limit header values.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "http/json_codec.hpp"
#include "http/uri.hpp"

namespace quotad::http {
namespace {

using domain::duration;
using domain::micro_per_credit;

const date::time_zone* utc() { return domain::find_zone("UTC"); }
const date::time_zone* berlin() { return domain::find_zone("Europe/Berlin"); }

// The error of a failed parse as "field | message", for compact assertions.
template <class T>
std::string error_of(const parsed<T>& p) {
  if (!p.error) return "(no error)";
  return p.error->field + " | " + p.error->message;
}

// --- uri -------------------------------------------------------------------

TEST(HttpUri, PercentDecodingKeepsPlusAndRejectsMalformedEscapes) {
  EXPECT_EQ(percent_decode("a%2Fb%20c"), "a/b c");
  EXPECT_EQ(percent_decode("%c3%A9"), "\xC3\xA9");
  EXPECT_EQ(percent_decode("2026-01-01T00:00:00+01:00"), "2026-01-01T00:00:00+01:00");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%"), std::nullopt);
  EXPECT_EQ(percent_decode("ab%2"), std::nullopt);
  EXPECT_EQ(percent_decode("%zz"), std::nullopt);
  EXPECT_EQ(percent_decode("%g0"), std::nullopt);
}

TEST(HttpUri, Utf8Validation) {
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(valid_utf8("\xFF"));
  EXPECT_FALSE(valid_utf8("\xC3"));              // truncated
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));      // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(valid_utf8("\x80"));              // lone continuation
}

TEST(HttpUri, ClientIdRules) {
  EXPECT_EQ(client_id_problem("a"), std::nullopt);
  EXPECT_EQ(client_id_problem(std::string(256, 'x')), std::nullopt);
  EXPECT_EQ(client_id_problem(""), "must not be empty");
  EXPECT_EQ(client_id_problem(std::string(257, 'x')), "must be at most 256 bytes");
  EXPECT_EQ(client_id_problem("a\xFF"), "must be valid UTF-8");
}

TEST(HttpUri, QueryParameters) {
  EXPECT_EQ(query_param("from=1&to=2", "to"), "2");
  EXPECT_EQ(query_param("from=1&to=2", "from"), "1");
  EXPECT_EQ(query_param("from=1&to=2", "granularity"), std::nullopt);
  EXPECT_EQ(query_param("flag&x=1", "flag"), "");
  EXPECT_EQ(query_param("from=1&from=2", "from"), "1");
  EXPECT_EQ(query_param("tox=1", "to"), std::nullopt);
  EXPECT_EQ(query_param("", "to"), std::nullopt);
}

// --- credits and times -------------------------------------------------------

TEST(HttpCodec, CreditsValues) {
  auto credits = [](std::string_view json, bool unlimited = false) {
    return credits_value(boost::json::parse(json), "credits", unlimited);
  };
  EXPECT_EQ(credits("5").value, 5 * micro_per_credit);
  EXPECT_EQ(credits("0").value, 0);
  EXPECT_EQ(credits("0.1").value, 100'000);
  EXPECT_EQ(credits("1e7").value, 10'000'000 * micro_per_credit);
  EXPECT_EQ(credits("\"0.000001\"").value, 1);
  EXPECT_EQ(credits("\"487.5\"").value, 487'500'000);
  EXPECT_EQ(credits("\"1234567890.123456\"").value, 1'234'567'890'123'456);
  EXPECT_EQ(credits("1000000000000").value, 1'000'000'000'000 * micro_per_credit);
  EXPECT_EQ(credits("-1", true).value, domain::unlimited);
  EXPECT_EQ(credits("-1.0", true).value, domain::unlimited);
  EXPECT_EQ(credits("\"-1\"", true).value, domain::unlimited);

  EXPECT_EQ(error_of(credits("-1")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits("-2", true)), "credits | must be -1 (unlimited) or a decimal >= 0");
  EXPECT_EQ(error_of(credits("-0.5")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits("true")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits("null")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits("\"abc\"")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits("\"0.0000001\"")), "credits | must have at most 6 fractional digits");
  EXPECT_EQ(error_of(credits("0.0000001")),
            "credits | must have at most 6 fractional digits (send long decimals as a string)");
  EXPECT_EQ(error_of(credits("1000000000001")), "credits | must be at most 1000000000000");
  EXPECT_EQ(error_of(credits("18446744073709551615")), "credits | must be at most 1000000000000");
  EXPECT_EQ(error_of(credits("1e300")), "credits | must be at most 1000000000000");
}

TEST(HttpCodec, EpochRange) {
  EXPECT_TRUE(epoch_in_range(0));
  EXPECT_TRUE(epoch_in_range(-62'167'219'200));  // 0000-01-01T00:00:00Z
  EXPECT_TRUE(epoch_in_range(253'402'300'799));  // 9999-12-31T23:59:59Z
  EXPECT_FALSE(epoch_in_range(-62'167'219'201));
  EXPECT_FALSE(epoch_in_range(253'402'300'800));
}

TEST(HttpCodec, CreditsText) {
  EXPECT_EQ(credits_text("2.5", "X-Quota-Credits").value, 2'500'000);
  EXPECT_EQ(credits_text(" 3 ", "X-Quota-Credits").value, 3 * micro_per_credit);
  EXPECT_EQ(error_of(credits_text("", "X-Quota-Credits")), "X-Quota-Credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits_text("-1", "X-Quota-Credits")), "X-Quota-Credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(credits_text("1x", "X-Quota-Credits")), "X-Quota-Credits | must be a decimal >= 0");
}

TEST(HttpCodec, TimeValues) {
  auto at = [](std::string_view json, const date::time_zone* zone) {
    return time_value(boost::json::parse(json), "start_date", zone);
  };
  EXPECT_EQ(domain::to_epoch(at("\"2022-01-01T00:00:00\"", utc()).value), 1'640'995'200);
  EXPECT_EQ(domain::to_epoch(at("\"2022-01-01T00:00:00\"", berlin()).value), 1'640'991'600);
  EXPECT_EQ(domain::to_epoch(at("\"2022-01-01T00:00:00Z\"", berlin()).value), 1'640'995'200);
  EXPECT_EQ(domain::to_epoch(at("1640995200", berlin()).value), 1'640'995'200);
  EXPECT_EQ(domain::to_epoch(at("1640995200.7", utc()).value), 1'640'995'200);
  EXPECT_EQ(domain::to_epoch(at("-1", utc()).value), -1);

  const std::string bad = "start_date | must be an ISO-8601 date-time or epoch seconds";
  EXPECT_EQ(error_of(at("\"2023-02-29\"", utc())), bad);
  EXPECT_EQ(error_of(at("\"yesterday\"", utc())), bad);
  EXPECT_EQ(error_of(at("true", utc())), bad);
  EXPECT_EQ(error_of(at("[]", utc())), bad);
  EXPECT_EQ(error_of(at("253402300800", utc())), "start_date | is out of range (years 0000 to 9999)");
  EXPECT_EQ(error_of(at("1e300", utc())), "start_date | is out of range (years 0000 to 9999)");

  EXPECT_EQ(domain::to_epoch(time_text("2026-12-01", "from", utc()).value), 1'796'083'200);
  EXPECT_EQ(domain::to_epoch(time_text("86400", "from", utc()).value), 86'400);
  EXPECT_EQ(error_of(time_text("12/01/2026", "to", utc())), "to | must be an ISO-8601 date-time or epoch seconds");
}

// --- PUT …/quotas ------------------------------------------------------------

TEST(HttpCodec, QuotasBodyParsesAndSorts) {
  auto p = parse_quotas(R"({"quotas":[
      {"duration":"month","credit_limit":10000,"start_date":"2022-01-01T00:00:00","time_zone":"Europe/Berlin"},
      {"duration":"DAY","credit_limit":"500.5","start_date":1640995200},
      {"duration":"Second","credit_limit":-1}]})",
                        utc());
  ASSERT_TRUE(p) << error_of(p);
  ASSERT_EQ(p.value.size(), 3u);
  EXPECT_EQ(p.value[0].dur, duration::second);
  EXPECT_EQ(p.value[0].limit, domain::unlimited);
  EXPECT_EQ(domain::to_epoch(p.value[0].start.at), 0);  // no start date: the zone's 1970-01-01T00:00
  EXPECT_EQ(p.value[1].dur, duration::day);
  EXPECT_EQ(p.value[1].limit, 500'500'000);
  EXPECT_EQ(domain::to_epoch(p.value[1].start.at), 1'640'995'200);
  EXPECT_EQ(p.value[1].start.zone, utc());
  EXPECT_EQ(p.value[2].dur, duration::month);
  EXPECT_EQ(p.value[2].limit, 10'000 * micro_per_credit);
  EXPECT_EQ(domain::to_epoch(p.value[2].start.at), 1'640'991'600);
  EXPECT_EQ(p.value[2].start.zone, berlin());
}

TEST(HttpCodec, QuotasBodyUsesTheDefaultZoneForLocalTimes) {
  auto p = parse_quotas(R"({"quotas":[{"duration":"DAY","credit_limit":5,"start_date":"2022-01-01T00:00:00"}]})",
                        berlin());
  ASSERT_TRUE(p) << error_of(p);
  EXPECT_EQ(domain::to_epoch(p.value[0].start.at), 1'640'991'600);
  EXPECT_EQ(p.value[0].start.zone, berlin());
}

TEST(HttpCodec, QuotasBodyAcceptsAnEmptyList) {
  auto p = parse_quotas(R"({"quotas":[]})", utc());
  ASSERT_TRUE(p);
  EXPECT_TRUE(p.value.empty());
}

TEST(HttpCodec, QuotasBodyErrorsNameTheirField) {
  auto err = [](std::string_view body) { return error_of(parse_quotas(body, utc())); };
  EXPECT_EQ(err(""), "body | malformed JSON");
  EXPECT_EQ(err("{\"quotas\":["), "body | malformed JSON");
  EXPECT_EQ(err("[1]"), "body | must be a JSON object");
  EXPECT_EQ(err("{}"), "quotas | is required");
  EXPECT_EQ(err(R"({"quotas":null})"), "quotas | is required");
  EXPECT_EQ(err(R"({"quotas":{}})"), "quotas | must be an array");
  EXPECT_EQ(err(R"({"quotas":[1]})"), "quotas[0] | must be an object");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":1},{"credit_limit":1}]})"),
            "quotas[1].duration | is required");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"FORTNIGHT","credit_limit":1}]})"),
            "quotas[0].duration | must be one of SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, YEAR");
  EXPECT_EQ(err(R"({"quotas":[{"duration":7,"credit_limit":1}]})"),
            "quotas[0].duration | must be one of SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, YEAR");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY"}]})"), "quotas[0].credit_limit | is required");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":-5}]})"),
            "quotas[0].credit_limit | must be -1 (unlimited) or a decimal >= 0");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":"lots"}]})"),
            "quotas[0].credit_limit | must be -1 (unlimited) or a decimal >= 0");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":1e13}]})"),
            "quotas[0].credit_limit | must be at most 1000000000000");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":1,"time_zone":"Mars/Olympus"}]})"),
            "quotas[0].time_zone | is not a known IANA time zone");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":1,"time_zone":1}]})"),
            "quotas[0].time_zone | must be a string");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":1,"start_date":"2023-02-29T00:00:00"}]})"),
            "quotas[0].start_date | must be an ISO-8601 date-time or epoch seconds");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"DAY","credit_limit":1},{"duration":"day","credit_limit":2}]})"),
            "quotas[1].duration | duplicate duration DAY");
  EXPECT_EQ(err(R"({"quotas":[{"duration":"SECOND","credit_limit":1},{"duration":"MINUTE","credit_limit":1},
                             {"duration":"HOUR","credit_limit":1},{"duration":"DAY","credit_limit":1},
                             {"duration":"WEEK","credit_limit":1},{"duration":"MONTH","credit_limit":1},
                             {"duration":"YEAR","credit_limit":1},{"duration":"DAY","credit_limit":1}]})"),
            "quotas | must hold at most 7 definitions, one per duration");
}

TEST(HttpCodec, FieldErrorDetail) {
  field_error e{"quotas[1].credit_limit", "must be -1 (unlimited) or a decimal >= 0"};
  EXPECT_EQ(e.detail(), "quotas[1].credit_limit: must be -1 (unlimited) or a decimal >= 0");
}

// --- POST …/usage ------------------------------------------------------------

TEST(HttpCodec, DebitBody) {
  auto empty = parse_debit("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty.value.credits, micro_per_credit);
  EXPECT_EQ(empty.value.idempotency_key, "");
  EXPECT_FALSE(empty.value.dry_run);
  EXPECT_EQ(parse_debit(" \r\n").value.credits, micro_per_credit);
  EXPECT_EQ(parse_debit("{}").value.credits, micro_per_credit);

  auto full = parse_debit(R"({"credits":5,"idempotency_key":"k-1","dry_run":true})");
  ASSERT_TRUE(full) << error_of(full);
  EXPECT_EQ(full.value.credits, 5 * micro_per_credit);
  EXPECT_EQ(full.value.idempotency_key, "k-1");
  EXPECT_TRUE(full.value.dry_run);
  EXPECT_EQ(parse_debit(R"({"credits":"0.1"})").value.credits, 100'000);
  EXPECT_EQ(parse_debit(R"({"credits":null})").value.credits, micro_per_credit);

  EXPECT_EQ(error_of(parse_debit("{")), "body | malformed JSON");
  EXPECT_EQ(error_of(parse_debit("5")), "body | must be a JSON object");
  EXPECT_EQ(error_of(parse_debit(R"({"credits":-1})")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(parse_debit(R"({"credits":"NaN"})")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(parse_debit(R"({"credits":[1]})")), "credits | must be a decimal >= 0");
  EXPECT_EQ(error_of(parse_debit(R"({"idempotency_key":5})")), "idempotency_key | must be a string");
  EXPECT_EQ(error_of(parse_debit("{\"idempotency_key\":\"" + std::string(257, 'k') + "\"}")),
            "idempotency_key | must be at most 256 bytes");
  EXPECT_EQ(error_of(parse_debit(R"({"dry_run":"yes"})")), "dry_run | must be true or false");
  // A misspelt field is an error, not a default: {"credit":5} must not debit 1.
  EXPECT_EQ(error_of(parse_debit(R"({"credit":5})")), "credit | is not a known field");
  EXPECT_EQ(error_of(parse_debit(R"({"credits":1,"dryrun":true})")), "dryrun | is not a known field");
  EXPECT_EQ(error_of(parse_debit(R"({"client_id":"a"})")),
            "client_id | is not a known field (the client is named in the path)");
}

TEST(HttpCodec, UnknownFieldsAreNamed) {
  EXPECT_EQ(error_of(parse_quotas(R"({"quotas":[{"duration":"DAY","credit_limit":1,"timezone":"Europe/Berlin"}]})",
                                  utc())),
            "quotas[0].timezone | is not a known field");
  EXPECT_EQ(error_of(parse_quotas(R"({"quota":[]})", utc())), "quota | is not a known field");
  EXPECT_EQ(error_of(parse_import(R"({"import_id":"i","records":[{"timestamp":1,"credit":1}]})", utc())),
            "records[0].credit | is not a known field");
  EXPECT_EQ(error_of(parse_import(R"({"import":"i","records":[]})", utc())), "import | is not a known field");
  auto batch = parse_batch(R"({"requests":[{"client_id":"a","credit":2},{"client_id":"b"}]})");
  ASSERT_TRUE(batch);
  ASSERT_TRUE(batch.value[0].error);
  EXPECT_EQ(batch.value[0].error->detail(), "requests[0].credit: is not a known field");
  EXPECT_FALSE(batch.value[1].error);
  EXPECT_EQ(error_of(parse_batch(R"({"request":[]})")), "request | is not a known field");
  EXPECT_EQ(error_of(parse_clock_set(R"({"time":1})", utc())), "time | is not a known field");
  EXPECT_EQ(error_of(parse_clock_advance(R"({"seconds":1,"x":2})")), "x | is not a known field");
}

TEST(HttpCodec, DebitBodyLargerThanTheStackBufferStillParses) {
  std::string body = R"({"credits":2,"idempotency_key":")" + std::string(200, 'k') + "\"" +
                     std::string(10'000, ' ') + "}";
  auto p = parse_debit(body);
  ASSERT_TRUE(p) << error_of(p);
  EXPECT_EQ(p.value.credits, 2 * micro_per_credit);
}

// --- /v1/usage:batch ---------------------------------------------------------

TEST(HttpCodec, BatchItemsAreJudgedOneByOne) {
  auto p = parse_batch(R"({"requests":[
      {"client_id":"a","credits":2,"idempotency_key":"k"},
      {"client_id":"b","credits":-3},
      7,
      {"credits":1},
      {"client_id":""},
      {"client_id":"c"}]})");
  ASSERT_TRUE(p) << error_of(p);
  ASSERT_EQ(p.value.size(), 6u);
  const auto& items = p.value;
  EXPECT_FALSE(items[0].error);
  EXPECT_EQ(items[0].client_id, "a");
  EXPECT_EQ(items[0].request.client_id, "a");
  EXPECT_EQ(items[0].request.credits, 2 * micro_per_credit);
  EXPECT_EQ(items[0].request.idempotency_key, "k");
  EXPECT_FALSE(items[0].request.want_quotas);

  ASSERT_TRUE(items[1].error);
  EXPECT_EQ(items[1].client_id, "b");
  EXPECT_EQ(items[1].error->detail(), "requests[1].credits: must be a decimal >= 0");
  ASSERT_TRUE(items[2].error);
  EXPECT_FALSE(items[2].has_client_id);
  EXPECT_EQ(items[2].error->detail(), "requests[2]: must be an object");
  ASSERT_TRUE(items[3].error);
  EXPECT_EQ(items[3].error->detail(), "requests[3].client_id: is required");
  ASSERT_TRUE(items[4].error);
  EXPECT_EQ(items[4].error->detail(), "requests[4].client_id: must not be empty");
  EXPECT_FALSE(items[5].error);
  EXPECT_EQ(items[5].request.credits, micro_per_credit);
}

TEST(HttpCodec, BatchBodyErrors) {
  EXPECT_EQ(error_of(parse_batch("{}")), "requests | is required");
  EXPECT_EQ(error_of(parse_batch(R"({"requests":"a"})")), "requests | must be an array");
  std::string many = "{\"requests\":[";
  for (int i = 0; i < 1001; ++i) many += i ? ",{}" : "{}";
  many += "]}";
  EXPECT_EQ(error_of(parse_batch(many)), "requests | must hold at most 1000 items");
  EXPECT_TRUE(parse_batch(R"({"requests":[]})"));
}

// --- import and testing clock ----------------------------------------------

TEST(HttpCodec, ImportBody) {
  auto p = parse_import(R"({"import_id":"i1","records":[
      {"timestamp":1700000000,"credits":1.5},{"timestamp":"2022-01-01T00:00:00","credits":"2"}]})",
                        berlin());
  ASSERT_TRUE(p) << error_of(p);
  EXPECT_EQ(p.value.import_id, "i1");
  ASSERT_EQ(p.value.records.size(), 2u);
  EXPECT_EQ(p.value.records[0].at, 1'700'000'000);
  EXPECT_EQ(p.value.records[0].credits, 1'500'000);
  EXPECT_EQ(p.value.records[1].at, 1'640'991'600);
  EXPECT_EQ(p.value.records[1].credits, 2 * micro_per_credit);

  auto err = [](std::string_view body) { return error_of(parse_import(body, utc())); };
  EXPECT_EQ(err(R"({"import_id":1,"records":[]})"), "import_id | must be a string");
  EXPECT_EQ(err(R"({"import_id":"x"})"), "records | is required");
  EXPECT_EQ(err(R"({"records":[]})"), "import_id | is required (a non-empty string)");
  EXPECT_EQ(err(R"({"import_id":"","records":[]})"), "import_id | is required (a non-empty string)");
  EXPECT_EQ(err(R"({"import_id":"x","records":[{"credits":1}]})"), "records[0].timestamp | is required");
  EXPECT_EQ(err(R"({"import_id":"x","records":[{"timestamp":1}]})"), "records[0].credits | is required");
  EXPECT_EQ(err(R"({"import_id":"x","records":[{"timestamp":1,"credits":1},{"timestamp":"x","credits":1}]})"),
            "records[1].timestamp | must be an ISO-8601 date-time or epoch seconds");
  EXPECT_EQ(err(R"({"import_id":"x","records":[{"timestamp":1,"credits":-1}]})"), "records[0].credits | must be a decimal >= 0");
  std::string many = "{\"import_id\":\"x\",\"records\":[";
  for (int i = 0; i < 10001; ++i) many += i ? ",{}" : "{}";
  many += "]}";
  EXPECT_EQ(err(many), "records | must hold at most 10000 items");
}

TEST(HttpCodec, TestingClockBodies) {
  EXPECT_EQ(domain::to_epoch(parse_clock_set(R"({"now":"2027-01-31T10:00:00Z"})", utc()).value), 1'801'389'600);
  EXPECT_EQ(domain::to_epoch(parse_clock_set(R"({"now":86400})", utc()).value), 86'400);
  EXPECT_EQ(error_of(parse_clock_set("{}", utc())), "now | is required");
  EXPECT_EQ(error_of(parse_clock_set(R"({"now":"soon"})", utc())),
            "now | must be an ISO-8601 date-time or epoch seconds");

  EXPECT_EQ(parse_clock_advance(R"({"seconds":86400})").value, 86'400);
  EXPECT_EQ(parse_clock_advance(R"({"seconds":-3600})").value, -3'600);
  EXPECT_EQ(parse_clock_advance(R"({"seconds":1e5})").value, 100'000);
  EXPECT_EQ(error_of(parse_clock_advance("{}")), "seconds | is required");
  EXPECT_EQ(error_of(parse_clock_advance(R"({"seconds":"1"})")), "seconds | must be an integer");
  EXPECT_EQ(error_of(parse_clock_advance(R"({"seconds":1.5})")),
            "seconds | must be an integer between -100000000000 and 100000000000");
  EXPECT_EQ(error_of(parse_clock_advance(R"({"seconds":100000000001})")),
            "seconds | must be an integer between -100000000000 and 100000000000");
}

// --- writing -----------------------------------------------------------------

TEST(HttpCodec, JsonStringEscaping) {
  auto escaped = [](std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
  };
  EXPECT_EQ(escaped("plain"), "\"plain\"");
  EXPECT_EQ(escaped("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(escaped("\n\r\t\b\f"), R"("\n\r\t\b\f")");
  EXPECT_EQ(escaped(std::string("\x01\x1f\0x", 4)), R"("\u0001\u001f\u0000x")");
  EXPECT_EQ(escaped("\xC3\xA9/"), "\"\xC3\xA9/\"");
  EXPECT_EQ(escaped(""), "\"\"");
  // Whatever goes in comes back out of a JSON parser unchanged.
  std::string nasty = "id \"with\" \\ and \x02 and \xE2\x82\xAC";
  EXPECT_EQ(boost::json::parse(escaped(nasty)).as_string(), nasty);
}

domain::quota make_quota(duration d, domain::micro_credits limit, domain::micro_credits used, std::int64_t start,
                         std::int64_t end, std::int64_t anchor = 1'640'995'200) {
  domain::quota q;
  q.def.dur = d;
  q.def.limit = limit;
  q.def.start = domain::anchor::make(domain::from_epoch(anchor), utc());
  q.current = {domain::from_epoch(start), domain::from_epoch(end)};
  q.used = used;
  return q;
}

TEST(HttpCodec, StatusDocument) {
  service::client_view view;
  view.client_id = "c\"1";
  view.quotas.push_back(make_quota(duration::day, 500 * micro_per_credit, 12'500'000, 1'796'083'200, 1'796'169'600));
  view.quotas.push_back(make_quota(duration::month, domain::unlimited, 20 * micro_per_credit, 1'796'083'200,
                                   1'798'761'600));
  view.lowest = 0;
  std::string out;
  append_status_document(out, view);
  EXPECT_EQ(out,
            R"({"client_id":"c\"1","quotas":[)"
            R"({"duration":"DAY","credit_limit":500,"start_date":"2022-01-01T00:00:00Z","time_zone":"UTC",)"
            R"("used":12.5,"remaining":487.5,"window_start":"2026-12-01T00:00:00Z",)"
            R"("window_end":"2026-12-02T00:00:00Z","reset":1796169600},)"
            R"({"duration":"MONTH","credit_limit":-1,"start_date":"2022-01-01T00:00:00Z","time_zone":"UTC",)"
            R"("used":20,"remaining":-1,"window_start":"2026-12-01T00:00:00Z",)"
            R"("window_end":"2027-01-01T00:00:00Z","reset":1798761600}],)"
            R"("lowest":{"remaining":487.5,"reset":1796169600}})");
  EXPECT_NO_THROW(boost::json::parse(out));

  service::client_view empty;
  empty.client_id = "e";
  out.clear();
  append_status_document(out, empty);
  EXPECT_EQ(out, R"({"client_id":"e","quotas":[],"lowest":null})");
}

TEST(HttpCodec, StatusDocumentNeverShowsNegativeRemaining) {
  service::client_view view;
  view.client_id = "c";
  view.quotas.push_back(make_quota(duration::hour, 5 * micro_per_credit, 7 * micro_per_credit, 0, 3600));
  view.lowest = 0;
  std::string out;
  append_status_document(out, view);
  auto doc = boost::json::parse(out);
  EXPECT_EQ(doc.at("quotas").at(0).at("used").as_int64(), 7);
  EXPECT_EQ(doc.at("quotas").at(0).at("remaining").as_int64(), 0);
  EXPECT_EQ(doc.at("lowest").at("remaining").as_int64(), 0);
}

service::debit_result limited_result() {
  service::debit_result r;
  r.result = service::outcome::ok;
  r.credits = 5 * micro_per_credit;
  r.has_quota = true;
  r.remaining = 487'500'000;
  r.reset = 1'796'169'600;
  r.now = domain::from_epoch(1'796'166'000);  // one hour before the reset
  r.quotas.push_back(make_quota(duration::day, 500 * micro_per_credit, 12'500'000, 1'796'083'200, 1'796'169'600));
  r.quotas.push_back(make_quota(duration::month, 10'000 * micro_per_credit, 1'000 * micro_per_credit,
                                1'796'083'200, 1'798'761'600));
  return r;
}

TEST(HttpCodec, DebitBodies) {
  std::string out;
  append_debit_body(out, limited_result());
  EXPECT_EQ(out, R"({"allowed":true,"credits":5,"remaining":487.5,"reset":1796169600})");

  service::debit_result no_list;
  no_list.credits = 100'000;
  out.clear();
  append_debit_body(out, no_list);
  EXPECT_EQ(out, R"({"allowed":true,"credits":0.1,"remaining":null,"reset":null})");

  service::debit_result unlimited;
  unlimited.credits = micro_per_credit;
  unlimited.has_quota = true;
  unlimited.remaining = domain::unlimited;
  unlimited.reset = 60;
  out.clear();
  append_debit_body(out, unlimited);
  EXPECT_EQ(out, R"({"allowed":true,"credits":1,"remaining":-1,"reset":60})");
}

TEST(HttpCodec, UsageBody) {
  service::usage_result r;
  r.total = 3'500'000;
  r.days = {{1'796'083'200, "2026-12-01", 1'000'000}, {1'796'169'600, "2026-12-02", 2'500'000}};
  std::string out;
  append_usage_body(out, r, false);
  EXPECT_EQ(out, R"({"total":3.5})");
  out.clear();
  append_usage_body(out, r, true);
  EXPECT_EQ(out, R"({"total":3.5,"days":[{"timestamp":1796083200,"date":"2026-12-01","credits":1},)"
                 R"({"timestamp":1796169600,"date":"2026-12-02","credits":2.5}]})");
}

TEST(HttpCodec, ProblemJson) {
  EXPECT_EQ(problem_json(problems::invalid_request, 400, "credits: must be a decimal >= 0", "credits"),
            R"({"type":"https://quotad.dev/problems/invalid-request","title":"Invalid request","status":400,)"
            R"("detail":"credits: must be a decimal >= 0","field":"credits"})");
  EXPECT_EQ(problem_json(problems::not_found, 404, "There is no such route"),
            R"({"type":"https://quotad.dev/problems/not-found","title":"Not found","status":404,)"
            R"("detail":"There is no such route"})");
  EXPECT_EQ(problem_json(problems::conflict, 409, "x", {}, R"(,"extra":1)"),
            R"({"type":"https://quotad.dev/problems/conflict","title":"Conflict","status":409,)"
            R"("detail":"x","extra":1})");
}

TEST(HttpCodec, RefusalReadsLikeTheSeed) {
  service::debit_result r = limited_result();
  r.result = service::outcome::refused;
  r.credits = 0;
  r.remaining = 2 * micro_per_credit;
  r.reset = 1'796'342'400;  // 2026-12-04T00:00:00Z
  r.retry_after = 3'600;
  r.violated = 0b01;
  EXPECT_EQ(refusal_detail(r, 5 * micro_per_credit),
            "You have only 2 credits remaining, but 5 are required. They will renew at 2026-12-04 00:00:00");
  r.remaining = 2'500'000;
  EXPECT_EQ(refusal_problem(r, 5'250'000),
            R"({"type":"https://quotad.dev/problems/quota-exceeded","title":"Quota exceeded","status":429,)"
            R"("detail":"You have only 2.5 credits remaining, but 5.25 are required. They will renew at 2026-12-04 00:00:00",)"
            R"("quota_remaining":2.5,"quota_renew":"2026-12-04T00:00:00Z","violated":["DAY"],"credits":5.25,"retry_after":3600})");
  r.violated = 0b11;
  auto doc = boost::json::parse(refusal_problem(r, 5'250'000));
  ASSERT_EQ(doc.at("violated").as_array().size(), 2u);
  EXPECT_EQ(doc.at("violated").at(1).as_string(), "MONTH");
}

// --- rate-limit headers --------------------------------------------------------

TEST(HttpCodec, RateLimitHeadersOfALimitedClient) {
  auto f = rate_limit_headers(limited_result());
  ASSERT_TRUE(f);
  EXPECT_EQ(f->remaining, "487.5");
  EXPECT_EQ(f->reset, "1796169600");
  EXPECT_EQ(f->policy, R"("day";q=500;w=86400, "month";q=10000;w=2592000)");
  EXPECT_EQ(f->limit, R"("day";r=487;t=3600)");
}

TEST(HttpCodec, RateLimitHeadersOnARefusalReportTheViolatedQuota) {
  service::debit_result r = limited_result();
  r.result = service::outcome::refused;
  // The month is violated (9 left), the day is not (though it has fewer left).
  r.quotas[0].used = 497 * micro_per_credit;
  r.quotas[1].used = 9'991 * micro_per_credit;
  r.violated = 0b10;
  r.remaining = 9 * micro_per_credit;
  r.reset = 1'798'761'600;
  auto f = rate_limit_headers(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->remaining, "9");
  EXPECT_EQ(f->limit, R"("month";r=9;t=2595600)");
}

TEST(HttpCodec, RateLimitHeadersFloorAndClamp) {
  service::debit_result r = limited_result();
  r.quotas[0].def.limit = 500'900'000;  // q floored
  r.remaining = 999'999;                // r floored to 0
  r.quotas[0].used = r.quotas[0].def.limit - r.remaining;
  r.now = domain::from_epoch(r.reset + 10);  // t never negative
  auto f = rate_limit_headers(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->remaining, "0.999999");
  EXPECT_EQ(f->policy, R"("day";q=500;w=86400, "month";q=10000;w=2592000)");
  EXPECT_EQ(f->limit, R"("day";r=0;t=0)");
}

TEST(HttpCodec, RateLimitHeadersWhenNothingIsLimited) {
  service::debit_result r;
  r.has_quota = true;
  r.remaining = domain::unlimited;
  r.reset = 1'796'083'260;
  r.quotas.push_back(make_quota(duration::minute, domain::unlimited, 0, 1'796'083'200, 1'796'083'260));
  auto f = rate_limit_headers(r);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->remaining, "-1");
  EXPECT_EQ(f->reset, "1796083260");
  EXPECT_EQ(f->policy, "");
  EXPECT_EQ(f->limit, "");
}

TEST(HttpCodec, NoRateLimitHeadersForAnEmptyList) {
  service::debit_result r;
  r.has_quota = false;
  EXPECT_FALSE(rate_limit_headers(r));
}

} // namespace
} // namespace quotad::http
