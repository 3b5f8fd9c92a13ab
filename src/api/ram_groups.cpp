// RAM user groups and their members.
#include "api/ops_util.hpp"
#include "api/ram_internal.hpp"

namespace sluice::api::ram {

namespace {

void write_group(JsonWriter& w, const iam::Group& g) {
  w.begin_object();
  w.field("GroupId", g.group_id);
  w.field("GroupName", g.name);
  w.field("Comments", g.comments);
  w.field("CreateDate", iso_time(g.created_at));
  w.end_object();
}

void CreateGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:CreateGroup", group_arn(c, name));
  auto g = unwrap(c.iam().create_group(c.account(), name, c.opt("Comments").value_or("")));
  c.out().key("Group");
  write_group(c.out(), g);
}
void GetGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:GetGroup", group_arn(c, name));
  c.out().key("Group");
  write_group(c.out(), unwrap(c.iam().get_group(c.account(), name)));
}
void UpdateGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:UpdateGroup", group_arn(c, name));
  c.out().key("Group");
  write_group(c.out(), unwrap(c.iam().update_group(c.account(), name, c.opt("NewGroupName"), c.opt("NewComments"))));
}
void DeleteGroup(Call& c) {
  auto name = c.req("GroupName");
  c.authorize("ram:DeleteGroup", group_arn(c, name));
  unwrap(c.iam().delete_group(c.account(), name));
}
void ListGroups(Call& c) {
  c.authorize("ram:ListGroups", group_arn(c, "*"));
  marker_list(c, unwrap(c.iam().list_groups(c.account())), "Groups", "Group",
              [](JsonWriter& w, const iam::Group& g) { write_group(w, g); });
}
void AddUserToGroup(Call& c) {
  auto g = c.req("GroupName"), u = c.req("UserName");
  c.authorize("ram:AddUserToGroup", group_arn(c, g));
  unwrap(c.iam().add_user_to_group(c.account(), g, u));
}
void RemoveUserFromGroup(Call& c) {
  auto g = c.req("GroupName"), u = c.req("UserName");
  c.authorize("ram:RemoveUserFromGroup", group_arn(c, g));
  unwrap(c.iam().remove_user_from_group(c.account(), g, u));
}
void ListGroupsForUser(Call& c) {
  auto u = c.req("UserName");
  c.authorize("ram:ListGroupsForUser", user_arn(c, u));
  auto gs = unwrap(c.iam().list_groups_for_user(c.account(), u));
  auto& w = c.out();
  w.begin_wrapped("Groups", "Group");
  for (const auto& g : gs) {
    w.begin_object();
    w.field("GroupName", g.name);
    w.field("Comments", g.comments);
    w.field("JoinDate", iso_time(g.created_at));
    w.end_object();
  }
  w.end_wrapped();
}
void ListUsersForGroup(Call& c) {
  auto g = c.req("GroupName");
  c.authorize("ram:ListUsersForGroup", group_arn(c, g));
  marker_list(c, unwrap(c.iam().list_users_for_group(c.account(), g)), "Users", "User",
              [](JsonWriter& w, const iam::User& u) {
                w.begin_object();
                w.field("UserName", u.name);
                w.field("DisplayName", u.display_name);
                w.field("JoinDate", iso_time(u.created_at));
                w.end_object();
              });
}

}  // namespace

void add_group_operations(Registry& r) {
  add(r, {
      {"CreateGroup", CreateGroup},
      {"GetGroup", GetGroup},
      {"UpdateGroup", UpdateGroup},
      {"DeleteGroup", DeleteGroup},
      {"ListGroups", ListGroups},
      {"AddUserToGroup", AddUserToGroup},
      {"RemoveUserFromGroup", RemoveUserFromGroup},
      {"ListGroupsForUser", ListGroupsForUser},
      {"ListUsersForGroup", ListUsersForGroup},
  });
}

}  // namespace sluice::api::ram
