# Sourced by the other scripts here: who owns the project folder, and running a
# command as them. Root working in a user's clone does the work as that user, so
# that nothing in it is left owned by root (which the user's later runs trip on).

owner_name() { stat -c %U .; }

# Whether this is root in a folder that belongs to another user.
needs_owner() { [ "$(id -u)" -eq 0 ] && [ "$(stat -c %u .)" -ne 0 ]; }

as_owner() {
  local user home
  user="$(owner_name)"
  home="$(getent passwd "$user" | cut -d: -f6)"
  runuser -u "$user" -- env HOME="$home" USER="$user" LOGNAME="$user" "$@"
}
