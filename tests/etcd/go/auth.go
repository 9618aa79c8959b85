package main

import (
	"context"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/etcdserver/api/v3rpc/rpctypes"
)

// checkAuth, run as root on a cluster with auth on: users and roles through clientv3's Auth API, a user confined to
// its role's prefix with etcd's typed refusals, read-only and revoked permissions, a changed password, and a client
// whose token expires while it works (clientv3 fetches a new one on "invalid auth token").
func checkAuth(ctx context.Context, e *env) error {
	cli, p := e.cli, e.pfx
	id := p[len(p)-9 : len(p)-1]
	user, role, ro := "go-"+id, "go-role-"+id, "go-ro/"+id+"/"
	defer cli.UserDelete(context.Background(), user)
	defer cli.RoleDelete(context.Background(), role)
	if _, err := cli.RoleAdd(ctx, role); err != nil {
		return err
	}
	if _, err := cli.RoleGrantPermission(ctx, role, p, clientv3.GetPrefixRangeEnd(p), clientv3.PermissionType(clientv3.PermReadWrite)); err != nil {
		return err
	}
	if _, err := cli.RoleGrantPermission(ctx, role, ro, clientv3.GetPrefixRangeEnd(ro), clientv3.PermissionType(clientv3.PermRead)); err != nil {
		return err
	}
	if _, err := cli.UserAdd(ctx, user, "pw1"); err != nil {
		return err
	}
	if _, err := cli.UserGrantRole(ctx, user, role); err != nil {
		return err
	}
	_, again := cli.UserAdd(ctx, user, "pw1")
	_, noRole := cli.UserGrantRole(ctx, user, "go-no-such-role")
	got, err := cli.UserGet(ctx, user)
	if err != nil {
		return err
	}
	perms, err := cli.RoleGet(ctx, role)
	if err != nil {
		return err
	}
	users, err := cli.UserList(ctx)
	if err != nil {
		return err
	}
	listed := false
	for _, u := range users.Users {
		listed = listed || u == user
	}
	if err := first(
		expectErr(again, rpctypes.ErrUserAlreadyExist, "adding a user twice"),
		expectErr(noRole, rpctypes.ErrRoleNotFound, "granting a role that does not exist"),
		expect(len(got.Roles) == 1 && got.Roles[0] == role, "user's roles: %v", got.Roles),
		expect(len(perms.Perm) == 2, "role's permissions: %v", perms.Perm),
		expect(listed, "user list: %v", users.Users),
	); err != nil {
		return err
	}

	_, wrong := e.newClient(user, "not-the-password")
	if err := expectErr(wrong, rpctypes.ErrAuthFailed, "connecting with a wrong password"); err != nil {
		return err
	}
	u, err := e.newClient(user, "pw1")
	if err != nil {
		return fmt.Errorf("connecting as %s: %v", user, err)
	}
	defer u.Close()
	if _, err := u.Put(ctx, p+"mine", "1"); err != nil {
		return fmt.Errorf("put inside the role: %v", err)
	}
	_, outside := u.Put(ctx, "go-outside-"+user, "1")
	_, readOutside := u.Get(ctx, "go-outside-"+user)
	_, readOnly := u.Put(ctx, ro+"x", "1")
	_, roRead := u.Get(ctx, ro+"x")
	_, asUser := u.UserList(ctx)
	_, deniedTxn := u.Txn(ctx).Then(clientv3.OpPut(p+"mine", "2"), clientv3.OpPut("go-outside-"+user, "2")).Commit()
	if err := first(
		expectErr(outside, rpctypes.ErrPermissionDenied, "put outside the role"),
		expectErr(readOutside, rpctypes.ErrPermissionDenied, "get outside the role"),
		expectErr(readOnly, rpctypes.ErrPermissionDenied, "put under a read-only permission"),
		expect(roRead == nil, "get under a read-only permission: %v", roRead),
		expectErr(asUser, rpctypes.ErrPermissionDenied, "user list by a non-root user"),
		expectErr(deniedTxn, rpctypes.ErrPermissionDenied, "a txn with one put outside the role"),
	); err != nil {
		return err
	}

	// The user's client keeps working across its token's expiry (the cluster's token TTL is short in the test).
	for end := time.Now().Add(time.Duration(e.seconds) * time.Second); time.Now().Before(end); {
		if _, err := u.Get(ctx, p+"mine"); err != nil {
			return fmt.Errorf("get as %s while its token expires: %v", user, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}

	if _, err := cli.RoleRevokePermission(ctx, role, p, clientv3.GetPrefixRangeEnd(p)); err != nil {
		return err
	}
	_, revoked := u.Put(ctx, p+"mine", "3")
	if _, err := cli.UserChangePassword(ctx, user, "pw2"); err != nil {
		return err
	}
	_, oldPassword := e.newClient(user, "pw1")
	fresh, err := e.newClient(user, "pw2")
	if err != nil {
		return fmt.Errorf("the new password: %v", err)
	}
	fresh.Close()
	_, revokeRoot := cli.UserRevokeRole(ctx, "root", "root")
	return first(
		expectErr(revoked, rpctypes.ErrPermissionDenied, "put after the permission was revoked"),
		expectErr(oldPassword, rpctypes.ErrAuthFailed, "the old password"),
		expectErr(revokeRoot, rpctypes.ErrInvalidAuthMgmt, "revoking root's root role"),
	)
}
